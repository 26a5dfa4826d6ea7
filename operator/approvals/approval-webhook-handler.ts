// The HTTP side of the McpApproval webhooks (/v1/approvals/mutate, /v1/approvals/validate):
// read the AdmissionReview, answer it, log the outcome. The decisions are in admit-approval.ts.

import type { IncomingMessage, ServerResponse } from "node:http";
import { readAdmissionReview } from "../read-admission-review.ts";
import { errorText, type OperatorLogger } from "../operator-logger.ts";
import { APPROVAL_MUTATE_PATH, mutateApproval, validateApproval, type AdmitApprovalResult, type PodServiceAccount } from "./admit-approval.ts";

/** An McpApproval is small (the preview is at most 1 KiB); so is its AdmissionReview. */
const MAX_REVIEW_BYTES = 256 * 1024;

export function createApprovalWebhookHandler(podServiceAccount: PodServiceAccount, logger: OperatorLogger) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    if (request.method !== "POST") {
      response.writeHead(405, { allow: "POST" }).end();
      return;
    }
    const mutating = (request.url ?? "").split("?")[0] === APPROVAL_MUTATE_PATH;
    readAdmissionReview(request, MAX_REVIEW_BYTES).then(
      (body) => {
        let admitted: AdmitApprovalResult;
        try {
          admitted = mutating ? mutateApproval(body) : validateApproval(body, podServiceAccount, Date.now());
        } catch (error) {
          admitted = { ok: false, message: errorText(error) };
        }
        if (!admitted.ok) {
          response.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: admitted.message }));
          return;
        }
        const allowed = admitted.review.response.allowed;
        logger[allowed ? "info" : "warn"]({ webhook: mutating ? "mutate" : "validate", allowed, detail: admitted.detail }, "approval admission");
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(admitted.review));
      },
      (error: unknown) => response.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: errorText(error) })),
    );
  };
}
