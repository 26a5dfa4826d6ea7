import { describe, expect, it } from "vitest";
import { approvalPreview, PREVIEW_BYTE_LIMIT } from "./approval-preview.ts";

describe("approvalPreview", () => {
  it("masks credential-like keys at any depth and keeps the rest", () => {
    const preview = JSON.parse(approvalPreview({ env: "prod", db: { password: "hunter2", apiKey: "k", Authorization: "Bearer x", cookies: ["a"] }, list: [{ token: "t" }] }));
    expect(preview).toEqual({ env: "prod", db: { password: "***", apiKey: "***", Authorization: "***", cookies: "***" }, list: [{ token: "***" }] });
  });

  it("cuts strings at 64 characters", () => {
    const preview = JSON.parse(approvalPreview({ script: "x".repeat(100) }));
    expect(preview.script).toBe(`${"x".repeat(64)}…`);
  });

  it("stays within 1 KiB, cut at a character boundary", () => {
    const preview = approvalPreview({ items: Array.from({ length: 200 }, (_, i) => `é-${i}`) });
    expect(Buffer.byteLength(preview)).toBeLessThanOrEqual(PREVIEW_BYTE_LIMIT);
    expect(preview.endsWith("…")).toBe(true);
    expect(preview).not.toContain("\uFFFD");
  });

  it("treats absent arguments as an empty object", () => {
    expect(approvalPreview(undefined)).toBe("{}");
  });
});
