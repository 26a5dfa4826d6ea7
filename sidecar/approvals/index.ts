export { ApprovalGate, DEFAULT_APPROVAL_HOLD_MS, type ApprovalGateOptions, type ApprovalMetrics, type HeldCall } from "./approval-gate.ts";
export type { ApprovalAsk, ApprovalDesk, ApprovalPhase, ApprovalVerdict } from "./approval-desk.ts";
export { approvalPreview, PREVIEW_BYTE_LIMIT, PREVIEW_STRING_LIMIT } from "./approval-preview.ts";
export { LocalApprovalDesk, DEFAULT_DECIDED_TTL_MS, type LocalApproval, type DecideResult } from "./local-approval-desk.ts";
export { handleApprovalsRequest, type ApprovalsApiOptions } from "./approvals-api.ts";
