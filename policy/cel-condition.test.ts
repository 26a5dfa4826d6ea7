import { describe, expect, it } from "vitest";
import { celJsonValue } from "./cel-values.ts";
import { compileCondition,  MAX_CONDITION_LENGTH, type ConditionBindings } from "./cel-condition.ts";
import { CONDITION_FALSE } from "./condition-outcome.ts";

function compiled(source: string) {
  const result = compileCondition(source);
  if (!result.ok) throw new Error(result.message);
  return result.condition;
}

function bindings(args: unknown, identity: unknown = { id: "alice", claims: {} }): ConditionBindings {
  return { tool: "run", args: celJsonValue(args), identity: celJsonValue(identity), session: celJsonValue({ id: "s1" }) };
}

describe("compileCondition: static limits", () => {
  it("accepts exactly 1024 characters and rejects 1025", () => {
    const padding = (n: number) => `tool == '${"x".repeat(n - "tool == ''".length)}'`;
    expect(padding(MAX_CONDITION_LENGTH)).toHaveLength(1024);
    expect(compileCondition(padding(1024)).ok).toBe(true);
    expect(compileCondition(padding(1025))).toEqual({ ok: false, message: "is 1025 characters long; at most 1024 are allowed" });
  });

  it("counts characters as code points", () => {
    const emoji = `tool == '${"😀".repeat(1024 - "tool == ''".length)}'`;
    expect(emoji.length).toBeGreaterThan(1024);
    expect(compileCondition(emoji).ok).toBe(true);
  });

  it("allows a comprehension nested one deep and rejects two deep", () => {
    expect(compileCondition("args.rows.all(r, r.cells.exists(c, c == 'x'))").ok).toBe(true);
    expect(compileCondition("args.a.all(x, x > 0) && args.b.exists(y, y > 0)").ok).toBe(true);
    const deep = compileCondition("args.a.all(x, x.all(y, y.all(z, z)))");
    expect(deep).toMatchObject({ ok: false, message: expect.stringContaining("nested at most one deep") });
    expect(compileCondition("args.a.map(x, x.filter(y, y.exists_one(z, z)))").ok).toBe(false);
  });

  it("rejects what would only fail at call time: syntax, unknown names and functions, bad regexes", () => {
    expect(compileCondition("args.a ==")).toMatchObject({ ok: false, message: expect.stringMatching(/^does not parse: /) });
    expect(compileCondition("")).toMatchObject({ ok: false, message: "must not be empty" });
    expect(compileCondition("request.user == 'x'")).toMatchObject({ message: expect.stringContaining('unknown name "request"') });
    expect(compileCondition("frobnicate(args.x)")).toMatchObject({ message: 'unknown function "frobnicate"' });
    expect(compileCondition("args.x.matches('(')")).toMatchObject({ message: expect.stringContaining("missing closing )") });
    expect(compileCondition("google.protobuf.Duration{seconds: 1} == args.d")).toMatchObject({ ok: false });
  });

  it("knows comprehension variables, type names and the strings extension", () => {
    expect(compileCondition("args.items.all(item, item.size() < 10)").ok).toBe(true);
    expect(compileCondition("type(args.n) == double && args.name.lowerAscii() == 'x'").ok).toBe(true);
    expect(compileCondition("item == 1").ok).toBe(false);
  });
});

describe("CompiledCondition.evaluate", () => {
  it("allows only boolean true", () => {
    expect(compiled("args.target.startsWith('staging-')").evaluate(bindings({ target: "staging-1" }))).toBeUndefined();
    expect(compiled("args.target.startsWith('staging-')").evaluate(bindings({ target: "prod-1" }))).toBe(CONDITION_FALSE);
    expect(compiled("args.n").evaluate(bindings({ n: 1 }))).toBe("condition did not evaluate to a boolean (got double)");
    expect(compiled("'yes'").evaluate(bindings({}))).toMatch(/not evaluate to a boolean \(got string\)/);
    expect(compiled("null").evaluate(bindings({}))).toMatch(/got null/);
  });

  it("denies with the error when evaluation fails", () => {
    expect(compiled("args.n + 1 > 3").evaluate(bindings({ n: 5 }))).toMatch(/^condition could not be evaluated: .*overload/);
    expect(compiled("args.n > 3").evaluate(bindings({ n: 5 }))).toBeUndefined();
    expect(compiled("args.missing == 'x'").evaluate(bindings({}))).toMatch(/could not be evaluated/);
    expect(compiled("1 / 0 == 1").evaluate(bindings({}))).toMatch(/divide by zero/);
    expect(compiled("int('abc') == 1").evaluate(bindings({}))).toMatch(/could not be evaluated/);
    expect(compiled("args.s.matches(args.pattern)").evaluate(bindings({ s: "a", pattern: "(" }))).toMatch(/could not be evaluated/);
  });

  it("sees identity and session", () => {
    const condition = compiled("identity.id == 'alice' && 'admins' in identity.claims.groups && session.id == 's1'");
    expect(condition.evaluate(bindings({}, { id: "alice", claims: { groups: ["admins"] } }))).toBeUndefined();
    expect(condition.evaluate(bindings({}, { id: "alice", claims: { groups: [] } }))).toBe(CONDITION_FALSE);
  });

  it("reads argument objects whatever their keys or prototype", () => {
    const condition = compiled("args.x.y == 2 && size(args.x) == 3 && has(args.x.constructor)");
    expect(condition.evaluate(bindings({ x: { constructor: 1, y: 2, __proto__x: 0 } }))).toBeUndefined();
    const bare = Object.assign(Object.create(null) as object, { y: 2 });
    expect(compiled("args.x.y == 2").evaluate(bindings({ x: bare }))).toBeUndefined();
    const viaJson = JSON.parse('{"x": {"__proto__": {"y": 1}, "y": 2}}') as unknown;
    expect(compiled("args.x.y == 2 && args.x['__proto__'].y == 1").evaluate(bindings(viaJson))).toBeUndefined();
    expect(compiled("args.list.all(o, o.k == 1)").evaluate(bindings({ list: [{ k: 1, constructor: "x" }, { k: 1 }] }))).toBeUndefined();
  });

  it("does not walk a huge argument it does not read", () => {
    const huge: Record<string, number> = {};
    for (let index = 0; index < 200_000; index++) huge[`k${index}`] = index;
    huge["target"] = 0;
    // Count what evaluation touches: enumerating the keys or reading another one would show.
    let enumerated = 0;
    const otherKeysRead = new Set<string>();
    const watched = new Proxy(huge, {
      ownKeys(target) {
        enumerated++;
        return Reflect.ownKeys(target);
      },
      get(target, key, receiver) {
        if (typeof key === "string" && key !== "target") otherKeysRead.add(key);
        return Reflect.get(target, key, receiver);
      },
    });
    const condition = compiled("args.target == 0.0");
    expect(condition.evaluate(bindings(watched))).toBeUndefined();
    expect(enumerated).toBe(0);
    expect([...otherKeysRead].filter((k) => k.startsWith("k"))).toEqual([]);
  });

  it("copes with deeply nested arguments (a decision, not a crash)", () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let index = 0; index < 100_000; index++) {
      const next = {};
      deep["a"] = next;
      deep = next;
    }
    expect(compiled("args.a.a.a == 1").evaluate(bindings(root))).toBe(CONDITION_FALSE);
    expect(compiled("args == args").evaluate(bindings(root))).toEqual(expect.any(String));
  });
});
