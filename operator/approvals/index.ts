export { APPROVAL_MUTATE_PATH, APPROVAL_VALIDATE_PATH, mutateApproval, validateApproval, type PodServiceAccount, type AdmitApprovalResult } from "./admit-approval.ts";
export { createApprovalWebhookHandler } from "./approval-webhook-handler.ts";
