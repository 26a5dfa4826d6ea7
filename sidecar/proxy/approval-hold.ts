// The one place a call that needs approval waits for it. Approvals (issue 6) replace the
// body: ask the operator, hold the call up to --approval-hold, and return `allow` (the
// caller then admits the call's rate limits) or the refusal. Until then no approval can
// be had, so the call is refused and the agent is told why.

import type { CallEvaluation, Decision, ToolCall } from "../../policy/index.ts";

export async function holdForApproval(evaluation: CallEvaluation, _call: ToolCall): Promise<Decision> {
  const asked = evaluation.decision;
  return {
    decision: "approval_required",
    policy: asked.policy,
    rule: asked.rule,
    reason: "this tool needs a person's approval, and approvals are not available in this sidecar yet; the call was not made",
  };
}
