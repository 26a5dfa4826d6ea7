export { APPROVAL_MUTATE_PATH, APPROVAL_VALIDATE_PATH } from "./admit-approval.ts";
export { createApprovalWebhookHandlers } from "./approval-webhook-handler.ts";
export { ApprovalController } from "./approval-controller.ts";
