import { describe, expect, it } from "vitest";
import { compileArgumentSchema, createArgumentSchemaCompiler } from "./argument-schema.ts";

function schema(value: unknown) {
  const result = compileArgumentSchema(value, createArgumentSchemaCompiler());
  if (!result.ok) throw new Error(result.message);
  return result.schema;
}

const iterations = {
  type: "object",
  properties: { iterations: { type: "integer", maximum: 5 }, target: { type: "string" } },
  required: ["target"],
  additionalProperties: false,
};

describe("compileArgumentSchema", () => {
  it("reports a schema that does not compile", () => {
    const compiler = createArgumentSchemaCompiler();
    expect(compileArgumentSchema({ type: "strin" }, compiler)).toMatchObject({ ok: false, message: expect.stringMatching(/^does not compile: /) });
    expect(compileArgumentSchema({ type: "object", frobnicate: 1 }, compiler)).toMatchObject({ message: expect.stringContaining("unknown keyword") });
    expect(compileArgumentSchema({ $ref: "https://example.com/schema.json" }, compiler)).toMatchObject({ message: expect.stringContaining("can't resolve reference") });
    expect(compileArgumentSchema({ type: "string", format: "emial" }, compiler)).toMatchObject({ message: expect.stringContaining('unknown format "emial"') });
    // RE2 has no backreferences: the policy is rejected rather than run on a backtracking engine.
    expect(compileArgumentSchema({ type: "string", pattern: "^(a)\\1$" }, compiler)).toMatchObject({ ok: false, message: expect.stringMatching(/^does not compile: /) });
    expect(compileArgumentSchema({ $async: true, type: "object" }, compiler)).toMatchObject({ message: expect.stringContaining("$async") });
    expect(compileArgumentSchema([1], compiler)).toMatchObject({ ok: false, message: expect.stringContaining("object or a boolean") });
  });

  it("compiles two schemas with the same $id in one table", () => {
    const compiler = createArgumentSchemaCompiler();
    expect(compileArgumentSchema({ $id: "https://x/a", type: "object" }, compiler).ok).toBe(true);
    expect(compileArgumentSchema({ $id: "https://x/a", type: "object" }, compiler).ok).toBe(true);
  });
});

describe("CompiledArgumentSchema.check", () => {
  it("checks standard formats", () => {
    const email = schema({ type: "object", properties: { to: { type: "string", format: "email" } } });
    expect(email.check({ to: "ops@example.com" })).toBeUndefined();
    expect(email.check({ to: "not an address" })).toContain("to");
  });

  it("runs patterns in linear time: a catastrophic-backtracking pattern cannot stall the decision", () => {
    const evil = schema({ type: "object", properties: { s: { type: "string", pattern: "^(a+)+$" } } });
    // On a backtracking engine this input takes longer than the universe's age; RE2 answers at once.
    const attack = "a".repeat(5_000) + "!";
    expect(evil.check({ s: attack })).toContain("s");
    expect(evil.check({ s: "aaaa" })).toBeUndefined();
    const keys = schema({ type: "object", patternProperties: { "^(x+x+)+y$": { type: "integer" } } });
    expect(keys.check({ ["x".repeat(5_000)]: "not checked: the key does not match" })).toBeUndefined();
  });

  it("lists which arguments failed and why", () => {
    const check = schema(iterations);
    expect(check.check({ target: "staging", iterations: 3 })).toBeUndefined();
    expect(check.check({ iterations: 7, extra: 1 })).toBe("target: is required; extra: is not an accepted argument; iterations: must be <= 5");
    expect(check.check("nope")).toBe("arguments: must be object");
  });

  it("cuts long lists and long names", () => {
    const many = schema({ type: "object", additionalProperties: false });
    const args: Record<string, number> = {};
    for (let index = 0; index < 20; index++) args[`argument_${index}`] = index;
    expect(many.check(args)).toMatch(/; and 15 more$/);
    expect(many.check({ ["x".repeat(500)]: 1 })?.length).toBeLessThan(120);
  });

  it("checks only own properties", () => {
    const check = schema({ type: "object", properties: { constructor: { type: "string" } }, required: ["constructor"] });
    expect(check.check({})).toBe("constructor: is required");
  });

  it("handles huge and deeply nested arguments", () => {
    const check = schema({ type: "object", properties: { items: { type: "array", maxItems: 100 } } });
    expect(check.check({ items: new Array(1_000_000).fill(0) })).toBe("items: must NOT have more than 100 items");
    const tree = schema({ $defs: { node: { type: "object", properties: { a: { $ref: "#/$defs/node" } } } }, $ref: "#/$defs/node" });
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let index = 0; index < 200_000; index++) {
      const next = {};
      deep["a"] = next;
      deep = next;
    }
    // Either answer is a decision; what matters is that it neither throws nor lets the call pass unchecked.
    const outcome = tree.check(root);
    expect(outcome === undefined || outcome.startsWith("arguments could not be checked")).toBe(true);
  });
});
