import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { argumentDigest, canonicalArguments } from "./argument-digest.ts";

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

describe("canonicalArguments (RFC 8785)", () => {
  it("canonicalises the RFC's example (§3.2.2)", () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    expect(canonicalArguments(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it.each([
    ["0", 0],
    ["0", -0],
    ["5e-324", 5e-324],
    ["1.7976931348623157e+308", 1.7976931348623157e308],
    ["9007199254740992", 9007199254740992],
    ["295147905179352830000", 295147905179352830000],
    ["1e+23", 1e23],
    ["0.000001", 0.000001],
    ["9.999999999999997e-7", 9.999999999999997e-7],
    ["1e+21", 1e21],
    ["999999999999999900000", 999999999999999900000],
    ["-1.5", -1.5],
  ])("writes numbers as ECMAScript does (Appendix B): %s", (expected, value) => {
    expect(canonicalArguments([value])).toBe(`[${expected}]`);
  });

  it("sorts keys by UTF-16 code units, recursively (§3.2.3)", () => {
    const input = JSON.parse('{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}');
    const keys = Object.keys(JSON.parse(canonicalArguments(input)) as object);
    expect(canonicalArguments(input).startsWith('{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":')).toBe(true);
    expect(keys).toHaveLength(7);
    expect(canonicalArguments({ b: { d: 1, c: [{ z: 1, y: 2 }] }, a: null })).toBe('{"a":null,"b":{"c":[{"y":2,"z":1}],"d":1}}');
  });
});

describe("argumentDigest", () => {
  it("is the SHA-256 hex of the canonical form; absent arguments are {}", () => {
    expect(argumentDigest({ b: 1, a: "x" })).toBe(sha256('{"a":"x","b":1}'));
    expect(argumentDigest(undefined)).toBe(sha256("{}"));
    expect(argumentDigest(JSON.parse('{ "n" : 1.0e0 , "s": "\\u0041" }'))).toBe(argumentDigest({ s: "A", n: 1 }));
  });

  it("digests a lone surrogate without throwing and without colliding with its replacement", () => {
    const lone = JSON.parse('{"s":"\\ud800"}');
    expect(argumentDigest(lone)).toMatch(/^[0-9a-f]{64}$/);
    expect(argumentDigest(lone)).not.toBe(argumentDigest({ s: "\ufffd" }));
    expect(argumentDigest(JSON.parse('{"t":1,"s":"\\ud800"}'))).toBe(argumentDigest(JSON.parse('{"s":"\\ud800","t":1}')));
  });

  it("keeps __proto__ as an ordinary key", () => {
    expect(canonicalArguments(JSON.parse('{"__proto__":{"x":1},"a":2}'))).toBe('{"__proto__":{"x":1},"a":2}');
  });
});
