// Which handler answers which request on the operator's HTTPS ports: the webhooks
// (`POST /v1/inject`, `/v1/approvals/mutate`, `/v1/approvals/validate`) and the policy
// stream (operator/stream/), on one port or two.
import { APPROVAL_MUTATE_PATH, APPROVAL_VALIDATE_PATH } from "./approvals/index.ts";
import { createRouter, methodNotAllowed, originFormOnly, serveRoutes, type RequestHandler } from "./http-app.ts";
import { INJECT_PATH } from "./injection/index.ts";
import { errorText, type OperatorLogger } from "./operator-logger.ts";

export interface WebhookHandlers {
  inject: RequestHandler;
  mutateApproval: RequestHandler;
  validateApproval: RequestHandler;
}

export function webhookRoutes(handlers: WebhookHandlers, logger: OperatorLogger): RequestHandler {
  const router = createRouter();
  router.use(originFormOnly);
  router.post(INJECT_PATH, handlers.inject);
  router.post(APPROVAL_MUTATE_PATH, handlers.mutateApproval);
  router.post(APPROVAL_VALIDATE_PATH, handlers.validateApproval);
  router.all([INJECT_PATH, APPROVAL_MUTATE_PATH, APPROVAL_VALIDATE_PATH], methodNotAllowed("POST"));
  return serveRoutes(router, {
    notFound: (_request, response) => void response.writeHead(404, { "content-type": "text/plain" }).end("not found\n"),
    failed: (error, request) => logger.error({ err: errorText(error), path: request.url }, "webhook request failed"),
    internalError: (_request, response) => void response.writeHead(500, { "content-type": "text/plain" }).end("internal error\n"),
  });
}

/** One port for both: the webhooks' paths (anything under /v1/inject too) go to them, the rest to the stream. */
export function webhookAndStreamRoutes(webhooks: RequestHandler, stream: RequestHandler): RequestHandler {
  return (request, response) => {
    const url = request.url ?? "";
    const path = url.split("?")[0];
    return url.startsWith(INJECT_PATH) || path === APPROVAL_MUTATE_PATH || path === APPROVAL_VALIDATE_PATH ? webhooks(request, response) : stream(request, response);
  };
}
