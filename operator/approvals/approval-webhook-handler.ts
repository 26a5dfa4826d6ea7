// The HTTP side of the McpApproval webhooks (/v1/approvals/mutate, /v1/approvals/validate):
// read the AdmissionReview, answer it, log the outcome. The decisions are in admit-approval.ts.

import type { IncomingMessage, ServerResponse } from "node:http";
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
    readJson(request, MAX_REVIEW_BYTES).then(
      (body) => {
        let admitted: AdmitApprovalResult;
        try {
          admitted = mutating ? mutateApproval(body) : validateApproval(body, podServiceAccount);
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

function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`the AdmissionReview is larger than ${limit} bytes`));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (error) {
        reject(new Error(`the body is not JSON: ${errorText(error)}`));
      }
    });
    request.on("error", reject);
  });
}
