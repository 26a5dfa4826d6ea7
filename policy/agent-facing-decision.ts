// What the agent is told about a refusal, which is not always the whole truth: a tool
// hidden by the policy must not be revealed by its refusal. Calling it gets exactly what
// a tool no policy names gets — the first enforcing policy's `default: deny`, or, when
// every enforcing policy allows unnamed tools, a neutral "not found" that names no policy
// or rule. Audit lines and metrics keep the true decision.

import type { DecisionTable } from "./decision-table.ts";
import type { Decision } from "./decision.ts";

/** The neutral answer for a tool that does not exist, as far as the agent can tell. */
export const TOOL_NOT_FOUND: Decision = Object.freeze({ decision: "deny", policy: "", rule: "", reason: "tool not found" });

export function agentFacingDecision(table: DecisionTable | undefined, decision: Decision): Decision {
  if (table === undefined || !isHideRule(decision.rule)) return decision;
  for (const policy of table.enforcing) {
    const fallback = policy.fallback.decision;
    if (fallback.decision === "deny") return fallback;
  }
  return TOOL_NOT_FOUND;
}

/** `hide[3]`: the rule a hide entry decides by. */
function isHideRule(rule: string): boolean {
  return rule.startsWith("hide[");
}
