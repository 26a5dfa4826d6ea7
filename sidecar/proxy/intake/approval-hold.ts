// The one place a call that needs approval waits for it: the approval gate
// (sidecar/approvals/) holds it up to --approval-hold and returns `allow` (the caller then
// admits the call's rate limits) or the refusal. A proxy built without a gate (no place to
// ask for approvals) refuses the call and tells the agent why. `waiting` hears that the
// call still waits (approval-progress.ts); `clientGone` ends the hold when the client that
// made the call is gone (the call is then not made).

import type { CallEvaluation, Decision, ToolCall } from "../../../policy/index.ts";
import type { ApprovalGate, WaitingListener } from "../../approvals/approval-gate.ts";

export async function holdForApproval(evaluation: CallEvaluation, call: ToolCall, argumentDigest: string, gate: ApprovalGate | undefined, waiting?: WaitingListener, clientGone?: AbortSignal): Promise<Decision> {
  const asked = evaluation.decision;
  if (gate === undefined || evaluation.approval === undefined) {
    return {
      decision: "approval_required",
      policy: asked.policy,
      rule: asked.rule,
      reason: "this tool needs a person's approval, and approvals are not available in this sidecar; the call was not made",
    };
  }
  return gate.hold({ approval: evaluation.approval, tool: call.tool, arguments: call.arguments, argumentDigest, callerId: call.identity.id }, waiting, clientGone);
}
