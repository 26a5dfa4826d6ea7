import { describe, expect, it } from "vitest";
import { testCache } from "../test/support/policy-engines.ts";

describe("CompileCache", () => {
  it("compiles a schema once per content and a condition once per source", () => {
    const cache = testCache();
    const first = cache.schema({ type: "object", properties: { id: { type: "string" } } });
    expect(cache.schema({ type: "object", properties: { id: { type: "string" } } })).toBe(first);
    expect(cache.schema({ type: "object", properties: { id: { type: "integer" } } })).not.toBe(first);
    expect(cache.condition("args.n > 0.0")).toBe(cache.condition("args.n > 0.0"));
  });

  it("keeps failures per content, with their message", () => {
    const cache = testCache();
    const result = cache.schema({ type: "object", unknownKeyword: 1 });
    expect(result.ok).toBe(false);
    expect(cache.schema({ type: "object", unknownKeyword: 1 })).toBe(result);
  });

  it("does not share a schema that is not plain JSON with one that prints the same", () => {
    const cache = testCache();
    const infinite = cache.schema({ type: "number", maximum: Number.POSITIVE_INFINITY });
    const nullMaximum = cache.schema({ type: "number", maximum: null });
    expect(nullMaximum).not.toBe(infinite);
    expect(nullMaximum.ok).toBe(false);
    const date = cache.schema({ const: new Date(0) });
    expect(cache.schema({ const: "1970-01-01T00:00:00.000Z" })).not.toBe(date);
  });

  it("shares validators that keep no state between calls", () => {
    const cache = testCache();
    const result = cache.schema({ type: "object", properties: { id: { type: "string" } }, required: ["id"] });
    if (!result.ok) throw new Error(result.message);
    expect(result.schema.check({})).toContain("id: is required");
    expect(result.schema.check({ id: "a" })).toBeUndefined();
    expect(result.schema.check({})).toContain("id: is required");
  });
});
