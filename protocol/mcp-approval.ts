// The McpApproval's own words (crds/mcpwarden.dev_mcpapprovals.yaml), kept alike on both
// sides: the operator reads and writes them in the cluster; the standalone sidecar's admin
// API (sidecar/approvals/) answers in them. Types and constants only.

export type ApprovalPhase = "Pending" | "Approved" | "Denied" | "Expired";

/** What a person writes in `spec.decision.verdict`. */
export type DecisionVerdict = "approve" | "deny";

/** The phase a decision gives: a new verdict is a compile error until it is given one here. */
export const DECIDED_PHASE: { readonly [Verdict in DecisionVerdict]: Exclude<ApprovalPhase, "Pending" | "Expired"> } = {
  approve: "Approved",
  deny: "Denied",
};
