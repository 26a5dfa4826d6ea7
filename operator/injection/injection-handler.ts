// The HTTP side of the injection webhook (`POST /v1/inject`, routed in operator-routes.ts):
// read the AdmissionReview, answer it, count the result. Everything else is in admitPod /
// injectSidecar.
import type { IncomingMessage, ServerResponse } from "node:http";
import { readAdmissionReview } from "../read-admission-review.ts";
import type { OperatorMetrics } from "../metrics/operator-metrics.ts";
import { errorText, type OperatorLogger } from "../operator-logger.ts";
import { admitPod } from "./admit-pod.ts";
import type { InjectionConfig } from "./injection-config.ts";

/** Pod specs with many containers and env values are large; AdmissionReviews are capped at this. */
const MAX_REVIEW_BYTES = 8 * 1024 * 1024;

export function createInjectionHandler(config: InjectionConfig, metrics: OperatorMetrics, logger: OperatorLogger) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    readAdmissionReview(request, MAX_REVIEW_BYTES).then(
      (body) => {
        const admitted = admitPod(body, config);
        if (!admitted.ok) {
          metrics.injectionsTotal.inc({ result: "error" });
          response.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: admitted.message }));
          return;
        }
        metrics.injectionsTotal.inc({ result: admitted.result });
        const request_ = (body as { request: { namespace?: string; name?: string; object?: { metadata?: { generateName?: string } } } }).request;
        const pod = `${request_.namespace ?? ""}/${request_.name ?? request_.object?.metadata?.generateName ?? ""}`;
        const level = admitted.result === "refused" || admitted.result === "error" ? "warn" : "info";
        logger[level]({ pod, result: admitted.result, detail: admitted.detail }, "pod admission");
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(admitted.review));
      },
      (error: unknown) => {
        metrics.injectionsTotal.inc({ result: "error" });
        response.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: errorText(error) }));
      },
    );
  };
}
