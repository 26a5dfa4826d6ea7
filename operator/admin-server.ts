// The operator's admin port (plain HTTP): /metrics for Prometheus, /healthz (the
// process answers) and /readyz (caches listed, servers listening).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
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
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0];
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const reason = options.notReadyReason();
      response.writeHead(reason === undefined ? 200 : 503, { "content-type": "text/plain" }).end(reason === undefined ? "ok\n" : `not ready: ${reason}\n`);
    } else if (path === "/metrics") {
      options.metrics.registry.metrics().then(
        (text) => response.writeHead(200, { "content-type": options.metrics.registry.contentType }).end(text),
        (error: unknown) => {
          options.logger.error({ err: errorText(error) }, "could not render metrics");
          response.writeHead(500).end();
        },
      );
    } else {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
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
