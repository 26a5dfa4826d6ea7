// The admin port (9464, `warden-admin`): Prometheus metrics and the kubelet's probes, apart
// from the MCP port so that neither agents nor their load can reach or starve it.
//   /healthz  200 while the process serves at all
//   /readyz   200 once a policy is loaded (a sidecar without one refuses every call)
//   /metrics  the text exposition
//   /v1/approvals  standalone approvals, guarded (sidecar/approvals/approvals-api.ts)

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { APPROVALS_PATH, handleApprovalsRequest, type ApprovalsApiOptions } from "./approvals/approvals-api.ts";

export interface AdminServerOptions {
  host: string;
  port: number;
  metrics: () => Promise<string>;
  /** undefined when ready, else why not (shown on /readyz). */
  notReadyReason: () => string | undefined;
  contentType?: string;
  /** The standalone sidecar's approvals; undefined: /v1/approvals says where approvals are decided. */
  approvals?: ApprovalsApiOptions;
}

export interface AdminServer {
  /** The bound address (the port is the OS's choice when 0 was asked for). */
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const server = createServer((req, res) => void handle(options, req, res));
  // Probes and scrapes are short; a stuck client must not hold a socket for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return { address: { host: options.host, port: bound.port }, close: () => closeServer(server) };
}

async function handle(options: AdminServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
  if (path === APPROVALS_PATH || path.startsWith(`${APPROVALS_PATH}/`)) {
    try {
      return await handleApprovalsRequest(options.approvals, req, res);
    } catch (error) {
      if (!res.headersSent) return reply(res, 500, `approvals failed: ${error instanceof Error ? error.message : String(error)}\n`);
      res.destroy();
      return;
    }
  }
  if (req.method !== "GET" && req.method !== "HEAD") return reply(res, 405, "method not allowed\n", { allow: "GET, HEAD" });
  switch (path) {
    case "/healthz":
      return reply(res, 200, "ok\n");
    case "/readyz": {
      const reason = options.notReadyReason();
      return reason === undefined ? reply(res, 200, "ready\n") : reply(res, 503, `not ready: ${reason}\n`);
    }
    case "/metrics":
      try {
        return reply(res, 200, await options.metrics(), { "content-type": options.contentType ?? PROMETHEUS_TEXT });
      } catch (error) {
        return reply(res, 500, `metrics failed: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    default:
      return reply(res, 404, "not found: try /metrics, /healthz or /readyz\n");
  }
}

function reply(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
