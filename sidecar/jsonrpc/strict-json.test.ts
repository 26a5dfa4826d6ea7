import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseStrictJson, strictJsonProblem } from "./strict-json.ts";

function problem(text: string, maxDepth?: number): string | undefined {
  const result = parseStrictJson(text, maxDepth);
  return result.ok ? undefined : result.problem;
}

describe("parseStrictJson", () => {
  it("parses what JSON.parse parses when nothing is ambiguous", () => {
    const text = '{"jsonrpc":"2.0","id":1,"method":"t\\u006fols/call","params":{"name":"x","arguments":{"a":[1,2.5e3,true,null,"\\n"]}}}';
    expect(parseStrictJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
  });

  it("refuses duplicate keys at any depth, also when escaped or differing only in case", () => {
    expect(problem('{"a":1,"a":2}')).toMatch(/duplicate key "a"/);
    expect(problem('{"params":{"name":"x","name":"y"}}')).toMatch(/duplicate key "name"/);
    expect(problem('{"params":{"name":"x","n\\u0061me":"y"}}')).toMatch(/duplicate key "name"/);
    expect(problem('{"method":"a","Method":"b"}')).toMatch(/duplicate key "Method"/);
    expect(problem('[{"x":{"y":[{"k":1,"K":2}]}}]')).toMatch(/duplicate key/);
    // Kelvin sign and long s fold onto ASCII letters in Unicode simple case folding.
    expect(problem('{"k":1,"\u212a":2}')).toMatch(/duplicate key/);
    expect(problem('{"s":1,"\u017f":2}')).toMatch(/duplicate key/);
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]));
    expect(problem(JSON.stringify(many).replace("}", ',"K39":0}'))).toMatch(/duplicate key/);
    expect(parseStrictJson(JSON.stringify(many)).ok).toBe(true);
    expect(parseStrictJson('{"a":{"a":{"a":1}},"b":{"a":2}}').ok).toBe(true);
  });

  it("refuses escaped lone surrogates but keeps escaped pairs", () => {
    expect(problem('{"name":"a\\ud800"}')).toMatch(/lone surrogate/);
    expect(problem('{"name":"a\\udc00b"}')).toMatch(/lone surrogate/);
    expect(problem('{"name":"\\ud800\\u0041"}')).toMatch(/lone surrogate/);
    expect(parseStrictJson('{"name":"\\ud83d\\ude00"}')).toEqual({ ok: true, value: { name: "😀" } });
  });

  it("refuses nesting deeper than the limit", () => {
    expect(parseStrictJson("[".repeat(64) + "]".repeat(64), 64).ok).toBe(true);
    expect(problem("[".repeat(65) + "]".repeat(65), 64)).toMatch(/deeper than 64/);
    expect(problem('{"a":'.repeat(10) + "1" + "}".repeat(10), 5)).toMatch(/deeper than 5/);
  });

  it("refuses invalid JSON", () => {
    for (const text of ["", "{", '{"a":}', '{"a":1,}', "[1,]", "tru", "01", '"\u0001"', "{} x", "NaN", "'a'", '{"a" 1}', '"\\x"']) {
      expect(parseStrictJson(text).ok, text).toBe(false);
    }
  });

  it("agrees with JSON.parse on every JSON value without duplicate keys (seed 4242)", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = JSON.stringify(value);
        const result = parseStrictJson(text);
        if (result.ok) expect(result.value).toEqual(JSON.parse(text));
        else expect(result.problem).toMatch(/duplicate key|lone surrogate/);
      }),
      { seed: 4242, numRuns: 2000 },
    );
  });

  it("never throws on arbitrary text (seed 4243)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
        const result = parseStrictJson(text);
        if (result.ok) expect(result.value).toEqual(JSON.parse(text));
      }),
      { seed: 4243, numRuns: 5000 },
    );
  });
});

describe("strictJsonProblem", () => {
  it("finds, without parsing the values, what makes text JSON.parse accepts not strict", () => {
    expect(strictJsonProblem('{"result":{"tools":[{"name":"a"},{"name":"b"}]}}')).toBeUndefined();
    expect(strictJsonProblem('{"result":{"tools":[{"name":"a","n\\u0061me":"b"}]}}')).toMatch(/duplicate key "name"/);
    expect(strictJsonProblem('{"tools":[],"Tools":[]}')).toMatch(/duplicate key "Tools"/);
    expect(strictJsonProblem('{"name":"a\\ud800"}')).toMatch(/lone surrogate/);
    expect(strictJsonProblem("[".repeat(5) + "]".repeat(5), 4)).toMatch(/deeper than 4/);
  });
});
