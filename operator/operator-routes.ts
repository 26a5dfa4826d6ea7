// Which handler answers which request on the operator's HTTPS ports: the webhooks
// (`/v1/inject`, `/v1/approvals/mutate`, `/v1/approvals/validate`) and the policy stream
// (`/v1/stream`, `/v1/ack`, `/v1/approvals`), on one port or two.
import type { IncomingMessage, ServerResponse } from "node:http";
import { APPROVAL_MUTATE_PATH, APPROVAL_VALIDATE_PATH } from "./approvals/index.ts";
import { INJECT_PATH } from "./injection/index.ts";

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

export interface WebhookHandlers {
  inject: RequestHandler;
  approvals: RequestHandler;
}

export function webhookRoutes(handlers: WebhookHandlers): RequestHandler {
  return (request, response) => {
    const path = (request.url ?? "").split("?")[0];
    if (path === INJECT_PATH) return handlers.inject(request, response);
    if (path === APPROVAL_MUTATE_PATH || path === APPROVAL_VALIDATE_PATH) return handlers.approvals(request, response);
    response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  };
}

/** One port for both: the webhooks' paths (anything under /v1/inject too) go to them, the rest to the stream. */
export function webhookAndStreamRoutes(webhooks: RequestHandler, stream: RequestHandler): RequestHandler {
  return (request, response) => {
    const path = (request.url ?? "").split("?")[0];
    const webhook = (request.url ?? "").startsWith(INJECT_PATH) || path === APPROVAL_MUTATE_PATH || path === APPROVAL_VALIDATE_PATH;
    return webhook ? webhooks(request, response) : stream(request, response);
  };
}
