// matchRule finds the governing rule through indexes (GlobIndex); matchRuleByScan tries
// every hide entry and glob in order, the precedence as ARCHITECTURE.md states it. They
// must pick the very same rule for every name.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePolicies } from "./compile-policies.ts";
import type { CompiledPolicy } from "./decision-table.ts";
import { MAX_TOOL_NAME_LENGTH } from "./glob.ts";
import { matchRule, matchRuleByScan } from "./match-rule.ts";
import { MCP_POLICY_API_VERSION, MCP_POLICY_KIND, type McpPolicySpec, type ToolRuleSpec } from "./model.ts";

const SEED = 20260716;

function compiled(spec: McpPolicySpec): CompiledPolicy {
  const result = compilePolicies([{ apiVersion: MCP_POLICY_API_VERSION, kind: MCP_POLICY_KIND, metadata: { name: "p", namespace: "agents" }, spec }]);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.table.enforcing[0] as CompiledPolicy;
}

/** The rule or decision's name, for readable failures (both sides return shared frozen objects). */
const ruleOf = (policy: CompiledPolicy, name: string) => matchRule(policy, name).rule;

// Few letters, so prefixes, suffixes and whole names collide often; a surrogate pair and
// an accented letter so `?` and the index meet code points of two units.
const piece = fc.constantFrom("a", "b", "ab", "ba", "_", "run_", "😀", "é", "*", "?", "**");
const pattern = fc.array(piece, { minLength: 1, maxLength: 6 }).map((pieces) => pieces.join(""));
const letters = fc.constantFrom("a", "b", "ab", "_", "run_", "😀", "é", "x", "\ud83d", "*", "?");
const freeName = fc.array(letters, { maxLength: 10 }).map((pieces) => pieces.join(""));
const rule = fc.constantFrom<ToolRuleSpec>({}, { action: "deny" }, { action: "approve", approval: { timeout: "1m" } });

/** Names made from the patterns themselves: each wildcard filled, so many names match something. */
function namesFrom(patterns: readonly string[], fills: readonly string[]): string[] {
  return patterns.map((text, index) => {
    let fill = index;
    return text.replace(/[*?]/g, (wildcard) => (wildcard === "?" ? "é" : (fills[fill++ % fills.length] ?? "")));
  });
}

function agreesOnEveryName(policy: CompiledPolicy, names: readonly string[]): boolean {
  for (const name of names) {
    const indexed = matchRule(policy, name);
    const scanned = matchRuleByScan(policy, name);
    if (indexed !== scanned) throw new Error(`${JSON.stringify(name)}: indexed ${indexed.rule}, by scan ${scanned.rule}`);
  }
  return true;
}

/** For every generated policy: free names, and names made from its own patterns, all agree. */
function assertAgreement(patternArbitrary: fc.Arbitrary<string>, sizes: { hide: number; minRules: number; maxRules: number; names: number }, numRuns: number): void {
  const spec = fc.record({
    hide: fc.array(patternArbitrary, { maxLength: sizes.hide }),
    tools: fc.dictionary(patternArbitrary, rule, { minKeys: sizes.minRules, maxKeys: sizes.maxRules }),
    default: fc.constantFrom<"allow" | "deny">("allow", "deny"),
  });
  fc.assert(
    fc.property(spec, fc.array(freeName, { maxLength: sizes.names }), fc.array(letters, { minLength: 1, maxLength: 4 }), (policySpec, names, fills) => {
      const patterns = [...policySpec.hide, ...Object.keys(policySpec.tools)];
      return agreesOnEveryName(compiled(policySpec), [...names, ...namesFrom(patterns, fills)]);
    }),
    { seed: SEED, numRuns },
  );
}

describe("matchRule (indexed) agrees with matchRuleByScan", () => {
  it(`on random policies and names (fast-check seed ${SEED}, 3,000 runs)`, () => {
    assertAgreement(pattern, { hide: 8, minRules: 0, maxRules: 24, names: 30 }, 3000);
  });

  it(`on policies at the rule limit, mostly globs sharing prefixes and suffixes (fast-check seed ${SEED}, 100 runs)`, () => {
    const longPattern = fc.array(piece, { minLength: 1, maxLength: 10 }).map((pieces) => pieces.join(""));
    assertAgreement(longPattern, { hide: 40, minRules: 100, maxRules: 256, names: 100 }, 100);
  });
});

describe("matchRule precedence through the indexes", () => {
  const policy = compiled({
    default: "allow",
    hide: ["*_secret", "debug_*", "debug_dump"],
    tools: {
      "*": {},
      "*_admin_*": { action: "deny" },
      "run_*": {},
      "run_*_fast": { action: "deny" },
      "*_iteration": { action: "approve", approval: { timeout: "1m" } },
      run_test_iteration: {},
      "?_x": {},
    },
  });

  it("the most specific glob wins whether it is filed by prefix, by suffix or under neither", () => {
    expect(ruleOf(policy, "run_test_iteration")).toBe('tools["run_test_iteration"]'); // exact beats both globs
    expect(ruleOf(policy, "run_other_iteration")).toBe('tools["*_iteration"]'); // 10 literals beat run_*'s 4
    expect(ruleOf(policy, "run_very_fast")).toBe('tools["run_*_fast"]'); // prefix and suffix: 9 literals
    expect(ruleOf(policy, "run_admin_x")).toBe('tools["*_admin_*"]'); // 7 literals, under neither end
    expect(ruleOf(policy, "run_")).toBe('tools["run_*"]');
    expect(ruleOf(policy, "😀_x")).toBe('tools["?_x"]'); // ? is one code point, the emoji two units
    expect(ruleOf(policy, "unknown")).toBe('tools["*"]');
  });

  it("finds globs with no literal end among many by a piece of their literal runs", () => {
    const infix = Object.fromEntries(Array.from({ length: 12 }, (_, index) => [`*_op${index}_*`, {}]));
    const many = compiled({ default: "deny", tools: { ...infix, "*_op1*": { action: "deny" }, "*": { action: "deny" } } });
    expect(ruleOf(many, "x_op1_y")).toBe('tools["*_op1_*"]'); // 5 literals beat *_op1*'s 4
    expect(ruleOf(many, "x_op11_y")).toBe('tools["*_op11_*"]');
    expect(ruleOf(many, "x_op1")).toBe('tools["*_op1*"]');
    expect(ruleOf(many, "nothing")).toBe('tools["*"]');
  });

  it("the first hide entry that matches names the rule, before any tool rule", () => {
    expect(ruleOf(policy, "debug_dump")).toBe("hide[1]"); // the glob comes before the exact entry
    expect(ruleOf(policy, "debug_secret")).toBe("hide[0]");
    expect(ruleOf(policy, "run_secret")).toBe("hide[0]");
    expect(ruleOf(policy, "a".repeat(MAX_TOOL_NAME_LENGTH + 1))).toBe("default");
  });
});
