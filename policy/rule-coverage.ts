// Which rules of a pod's policies a call exercises, for `mcp-warden policy test --coverage`.
// A rule is exercised when any policy's evaluation of a call matched it — by the same
// precedence evaluateCall uses (matchRule) — whatever the combined decision: a rule whose
// policy was outvoted by another policy's deny was still reached.

import type { CompiledPolicy, DecisionTable } from "./decision-table.ts";
import { matchRule } from "./match-rule.ts";

export interface RuleRef {
  /** `namespace/name` of the policy. */
  readonly policy: string;
  /** `tools["run_*"]`, `hide[0]` or `default`. */
  readonly rule: string;
}

const compiledPolicies = (table: DecisionTable): readonly CompiledPolicy[] => [...table.enforcing, ...table.audit];

/** Every rule a call can match, policy by policy in namespace/name order (enforcing, then audit). */
export function policyRules(table: DecisionTable): RuleRef[] {
  const rules: RuleRef[] = [];
  for (const policy of compiledPolicies(table)) {
    const names = [
      ...policy.hide.map((entry) => entry.decision.rule),
      ...[...policy.exact.values(), ...policy.globs.map(({ rule }) => rule)].map((rule) => rule.rule).sort(),
      policy.fallback.rule,
    ];
    for (const rule of new Set(names)) rules.push({ policy: policy.ref, rule });
  }
  return rules;
}

/** The rule each policy matched for this tool name. */
export function matchedRules(table: DecisionTable, tool: string): RuleRef[] {
  return compiledPolicies(table).map((policy) => ({ policy: policy.ref, rule: matchRule(policy, tool).rule }));
}
