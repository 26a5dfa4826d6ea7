import { describe, expect, it } from "vitest";
import { selectorMatches, serviceSelects } from "./label-selector.ts";

describe("selectorMatches", () => {
  const labels = { app: "mockloop", tier: "mcp", "mcpwarden.dev/injected": "true" };

  it("ANDs matchLabels and matchExpressions; {} selects everything; no selector selects nothing", () => {
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches({}, undefined)).toBe(true);
    expect(selectorMatches(undefined, labels)).toBe(false);
    expect(selectorMatches({ matchLabels: { app: "mockloop" } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: "mockloop", tier: "web" } }, labels)).toBe(false);
    expect(selectorMatches({ matchLabels: { app: "mockloop" }, matchExpressions: [{ key: "tier", operator: "In", values: ["web"] }] }, labels)).toBe(false);
  });

  it("implements In, NotIn, Exists and DoesNotExist as Kubernetes does", () => {
    expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "In", values: ["web", "mcp"] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "missing", operator: "In", values: ["x"] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["mcp"] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "missing", operator: "NotIn", values: ["x"] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "Exists" }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, labels)).toBe(false);
  });

  it("does not find labels on the prototype", () => {
    expect(selectorMatches({ matchExpressions: [{ key: "constructor", operator: "Exists" }] }, {})).toBe(false);
    expect(selectorMatches({ matchLabels: { toString: "x" } }, {})).toBe(false);
  });
});

describe("serviceSelects", () => {
  it("needs every selector entry; an empty selector selects no pods", () => {
    expect(serviceSelects({ app: "a" }, { app: "a", x: "y" })).toBe(true);
    expect(serviceSelects({ app: "a", x: "z" }, { app: "a", x: "y" })).toBe(false);
    expect(serviceSelects({}, { app: "a" })).toBe(false);
    expect(serviceSelects(undefined, { app: "a" })).toBe(false);
  });
});
