// The HTTP side of the McpApproval webhooks (`POST /v1/approvals/mutate`, `POST
// /v1/approvals/validate`, routed in operator-routes.ts): read the AdmissionReview, answer
// it, log the outcome. The decisions are in admit-approval.ts.

import type { IncomingMessage, ServerResponse } from "node:http";
import { readAdmissionReview } from "../read-admission-review.ts";
import { errorText, type OperatorLogger } from "../operator-logger.ts";
import { mutateApproval, validateApproval, type AdmitApprovalResult, type PodServiceAccount } from "./admit-approval.ts";

/** An McpApproval is small (the preview is at most 1 KiB); so is its AdmissionReview. */
const MAX_REVIEW_BYTES = 256 * 1024;

type ApprovalWebhookHandler = (request: IncomingMessage, response: ServerResponse) => void;

export function createApprovalWebhookHandlers(podServiceAccount: PodServiceAccount, logger: OperatorLogger): { mutate: ApprovalWebhookHandler; validate: ApprovalWebhookHandler } {
  const handler =
    (webhook: "mutate" | "validate", admit: (body: unknown) => AdmitApprovalResult): ApprovalWebhookHandler =>
    (request, response) => {
      readAdmissionReview(request, MAX_REVIEW_BYTES).then(
        (body) => {
          let admitted: AdmitApprovalResult;
          try {
            admitted = admit(body);
          } catch (error) {
            admitted = { ok: false, message: errorText(error) };
          }
          if (!admitted.ok) {
            response.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: admitted.message }));
            return;
          }
          const allowed = admitted.review.response.allowed;
          logger[allowed ? "info" : "warn"]({ webhook, allowed, detail: admitted.detail }, "approval admission");
          response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(admitted.review));
        },
        (error: unknown) => response.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: errorText(error) })),
      );
    };
  return {
    mutate: handler("mutate", mutateApproval),
    validate: handler("validate", (body) => validateApproval(body, podServiceAccount, Date.now())),
  };
}
