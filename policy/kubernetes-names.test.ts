import { describe, expect, it } from "vitest";
import { dnsLabelPrefix } from "./kubernetes-names.ts";

describe("dnsLabelPrefix", () => {
  it("makes a tool name the start of a DNS label", () => {
    expect(dnsLabelPrefix("Deploy_Prod", 40, "call")).toBe("deploy-prod");
    expect(dnsLabelPrefix("__weird..name__", 40, "call")).toBe("weird-name");
  });

  it("never ends with '-' after the cut, and falls back when nothing is left", () => {
    expect(dnsLabelPrefix("abcd_efgh", 5, "call")).toBe("abcd");
    expect(dnsLabelPrefix("ÄÖÜ", 40, "call")).toBe("call");
    expect(dnsLabelPrefix("x".repeat(100), 40, "call")).toHaveLength(40);
  });
});
