import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareGlobSpecificity, compileGlob, globMatches, toolPatternProblem } from "./glob.ts";

// The oracle: the same glob as an anchored RegExp in Unicode mode, where `.` is one code point.
function oracle(pattern: string, name: string): boolean {
  let source = "^";
  for (const char of pattern) {
    if (char === "*") source += ".*";
    else if (char === "?") source += ".";
    else source += `\\u{${(char.codePointAt(0) as number).toString(16)}}`;
  }
  return new RegExp(`${source}$`, "su").test(name);
}

describe("globMatches", () => {
  it.each([
    ["run_*", "run_test_iteration", true],
    ["run_*", "run_", true],
    ["run_*", "Run_test", false],
    ["*_runs", "list_runs", true],
    ["list_?uns", "list_runs", true],
    ["list_?uns", "list_uns", false],
    ["*", "", true],
    ["", "", true],
    ["a*b*c", "aXbYc", true],
    ["a*b*c", "aXbY", false],
    ["**", "anything", true],
  ])("%s matches %s: %s", (pattern, name, expected) => {
    expect(globMatches(pattern, name)).toBe(expected);
  });

  it("treats every character but * and ? literally", () => {
    expect(globMatches("tool[1]", "tool[1]")).toBe(true);
    expect(globMatches("tool[1]", "tool1")).toBe(false);
    expect(globMatches("a.b", "aXb")).toBe(false);
    expect(globMatches("a\\*", "a\\anything")).toBe(true);
    expect(globMatches("a\\*", "a*")).toBe(false);
    expect(globMatches("^run$", "^run$")).toBe(true);
    expect(globMatches("(a|b)", "a")).toBe(false);
  });

  it("matches code point by code point: ? is one emoji, no case folding, no normalisation", () => {
    expect(globMatches("x?y", "x😀y")).toBe(true);
    expect(globMatches("x??y", "x😀y")).toBe(false);
    expect(globMatches("list_runs", "List_Runs")).toBe(false);
    expect(globMatches("list_*", "list_runѕ")).toBe(true); // Cyrillic ѕ is still a character after list_
    expect(globMatches("*_runs", "list_runѕ")).toBe(false);
    expect(globMatches("caf\u00e9", "cafe\u0301")).toBe(false);
  });

  it("keeps linear-ish time on patterns that make backtracking regexes explode", () => {
    // A backtracking matcher would not finish this within the test's timeout.
    const name = "a".repeat(500);
    expect(globMatches("*a*a*a*a*a*a*a*a*a*a*b", name)).toBe(false);
  });

  it("agrees with a RegExp oracle on random patterns and names (fixed seed)", () => {
    const alphabet = fc.constantFrom("a", "b", "*", "?", ".", "[", "\\", "😀", "é", "_");
    const text = fc.array(alphabet, { maxLength: 12 }).map((chars) => chars.join(""));
    const name = fc.array(fc.constantFrom("a", "b", ".", "[", "\\", "😀", "é", "_", "*", "?", "\ud800", "\udc00"), { maxLength: 16 }).map((c) => c.join(""));
    fc.assert(
      fc.property(text, name, (pattern, candidate) => globMatches(pattern, candidate) === oracle(pattern, candidate)),
      { seed: 20261122, numRuns: 5000 },
    );
  });

  it("agrees with the oracle when the name is built to match", () => {
    const pieces = fc.array(fc.oneof(fc.constant("*"), fc.constant("?"), fc.string({ unit: "grapheme", minLength: 1, maxLength: 3 })), {
      maxLength: 6,
    });
    fc.assert(
      fc.property(pieces, fc.array(fc.string({ unit: "grapheme", maxLength: 3 }), { minLength: 6, maxLength: 6 }), (parts, fill) => {
        const pattern = parts.join("");
        const name = parts.map((part, index) => (part === "*" ? (fill[index] ?? "") : part === "?" ? "x" : part)).join("");
        return globMatches(pattern, name) === oracle(pattern, name) && (pattern.includes("?") || oracle(pattern, name));
      }),
      { seed: 4242, numRuns: 2000 },
    );
  });
});

describe("compareGlobSpecificity", () => {
  const sorted = (...patterns: string[]) => patterns.map(compileGlob).sort(compareGlobSpecificity).map((glob) => glob.pattern);

  it("prefers more literal characters, then fewer stars, then code point order", () => {
    expect(sorted("run_*", "run_test_*", "*")).toEqual(["run_test_*", "run_*", "*"]);
    expect(sorted("a*b*", "a*b")).toEqual(["a*b", "a*b*"]);
    expect(sorted("ab?", "ab*")).toEqual(["ab?", "ab*"]); // same literals, ? is not a star
    expect(sorted("b*", "a*")).toEqual(["a*", "b*"]);
    expect(sorted("😀*", "\uffff*")).toEqual(["\uffff*", "😀*"]); // code points, not UTF-16 units
  });
});

describe("toolPatternProblem", () => {
  it("rejects empty, overlong, ill-formed and control-character names", () => {
    expect(toolPatternProblem("")).toMatch(/empty/);
    expect(toolPatternProblem("x".repeat(257))).toMatch(/at most 256/);
    expect(toolPatternProblem("a\ud800")).toMatch(/lone surrogate/);
    expect(toolPatternProblem("a\nb")).toMatch(/control/);
    expect(toolPatternProblem("run_*[?]")).toBeUndefined();
  });
});
