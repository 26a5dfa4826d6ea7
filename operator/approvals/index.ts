export { APPROVAL_MUTATE_PATH, APPROVAL_VALIDATE_PATH, mutateApproval, validateApproval, type PodServiceAccount, type AdmitApprovalResult } from "./admit-approval.ts";
export { createApprovalWebhookHandlers } from "./approval-webhook-handler.ts";
export { ApprovalController, DEFAULT_APPROVAL_TTL_MS, verdictOf, type ApprovalControllerOptions } from "./approval-controller.ts";
export { APPROVAL_POD_UID_LABEL, approvalObjectFor, readApprovalAsk } from "./approval-request.ts";
