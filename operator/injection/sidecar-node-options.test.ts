import { describe, expect, it } from "vitest";
import { memoryBytes, sidecarNodeOptions } from "./sidecar-node-options.ts";

describe("sidecarNodeOptions", () => {
  it("gives the old space three eighths of the memory limit, and 8 MB semi-spaces", () => {
    expect(sidecarNodeOptions("256Mi")).toBe("--max-old-space-size=96 --max-semi-space-size=8");
    expect(sidecarNodeOptions("1Gi")).toBe("--max-old-space-size=384 --max-semi-space-size=8");
    expect(sidecarNodeOptions("500M")).toBe("--max-old-space-size=178 --max-semi-space-size=8");
    expect(sidecarNodeOptions("268435456")).toBe("--max-old-space-size=96 --max-semi-space-size=8");
  });

  it("never goes below 32 MB, and leaves the old space alone without a readable limit", () => {
    expect(sidecarNodeOptions("16Mi")).toBe("--max-old-space-size=32 --max-semi-space-size=8");
    expect(sidecarNodeOptions(undefined)).toBe("--max-semi-space-size=8");
    expect(sidecarNodeOptions("lots")).toBe("--max-semi-space-size=8");
    expect(sidecarNodeOptions("256mi")).toBe("--max-semi-space-size=8");
  });

  it("reads Kubernetes memory quantities", () => {
    expect(memoryBytes("1.5Gi")).toBe(1.5 * 1024 ** 3);
    expect(memoryBytes("64k")).toBe(64_000);
    expect(memoryBytes("0")).toBeUndefined();
    expect(memoryBytes("-1Mi")).toBeUndefined();
  });
});
