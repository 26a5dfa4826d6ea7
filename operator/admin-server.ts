// The operator's admin port (plain HTTP): /metrics for Prometheus, /healthz (the
// process answers) and /readyz (caches listed, servers listening).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRouter, onlyMethods, originFormOnly, serveRoutes } from "./http-app.ts";
import type { OperatorMetrics } from "./metrics/operator-metrics.ts";
import { errorText, type OperatorLogger } from "./operator-logger.ts";

export interface OperatorAdminServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startOperatorAdminServer(options: {
  host: string;
  port: number;
  metrics: OperatorMetrics;
  /** undefined when ready, else why not. */
  notReadyReason: () => string | undefined;
  logger: OperatorLogger;
}): Promise<OperatorAdminServer> {
  const router = createRouter();
  router.use(onlyMethods(["GET", "HEAD"]));
  router.use(originFormOnly);
  router.get("/healthz", (_request, response) => void response.writeHead(200, { "content-type": "text/plain" }).end("ok\n"));
  router.get("/readyz", (_request, response) => {
    const reason = options.notReadyReason();
    response.writeHead(reason === undefined ? 200 : 503, { "content-type": "text/plain" }).end(reason === undefined ? "ok\n" : `not ready: ${reason}\n`);
  });
  router.get("/metrics", (_request, response) => {
    options.metrics.registry.metrics().then(
      (text) => response.writeHead(200, { "content-type": options.metrics.registry.contentType }).end(text),
      (error: unknown) => {
        options.logger.error({ err: errorText(error) }, "could not render metrics");
        response.writeHead(500).end();
      },
    );
  });
  const server: Server = createServer(
    serveRoutes(router, {
      notFound: (_request, response) => void response.writeHead(404, { "content-type": "text/plain" }).end("not found\n"),
      failed: (error, request) => options.logger.error({ err: errorText(error), path: request.url }, "admin request failed"),
      internalError: (_request, response) => void response.writeHead(500).end(),
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host === "" ? undefined : options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
