// The MCP-aware reverse proxy: one request listener for every transport, in front of one
// upstream (HTTP, or a command spawned per session). Routes:
//   GET /sse, POST /messages?sessionId=  the legacy HTTP+SSE transport (2024-11-05)
//   anything else                         Streamable HTTP (POST, GET, DELETE); /mcp maps
//                                         to the configured endpoint, other paths to the
//                                         same path on the upstream (a Service retargeted
//                                         at the sidecar keeps its clients' URLs)

import type { IncomingMessage, ServerResponse } from "node:http";
import { INTERNAL_ERROR } from "../jsonrpc/error-codes.ts";
import { sendJsonRpcError } from "./replies/http-replies.ts";
import { LegacySseRelay } from "./http-upstream/legacy-sse-relay.ts";
import { isStdioUpstream, type McpProxyOptions } from "./options.ts";
import { ProxyCore } from "./proxy-core.ts";
import { StdioBridge } from "./stdio-upstream/stdio-bridge.ts";
import { StreamableHttpRelay } from "./http-upstream/streamable-http-relay.ts";
import { createUpstreamAgent } from "./http-upstream/upstream-http.ts";

export interface McpProxy {
  /** A node:http request listener. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Refuses new requests, lets in-flight ones finish (bounded), ends streams, reaps processes. */
  close(): Promise<void>;
  /** Tool names the upstream has listed (for bounded metric labels). */
  upstreamTools(): ReadonlySet<string>;
  /** Live stdio sessions and their server processes (empty for an HTTP upstream). */
  stdioSessions(): readonly { readonly id: string; readonly pid: number | undefined }[];
}

export function createMcpProxy(options: McpProxyOptions): McpProxy {
  const core = new ProxyCore(options);
  const upstream = options.upstream;
  const agent = isStdioUpstream(upstream) ? undefined : createUpstreamAgent();
  const streamable = agent === undefined || isStdioUpstream(upstream) ? undefined : new StreamableHttpRelay(core, upstream, agent);
  const legacy = agent === undefined || isStdioUpstream(upstream) ? undefined : new LegacySseRelay(core, upstream, agent);
  const bridge = isStdioUpstream(upstream) ? new StdioBridge(core, upstream) : undefined;

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (legacy !== undefined) {
      if (req.method === "GET" && path === "/sse") return legacy.openStream(req, res);
      if (req.method === "POST" && path === "/messages" && legacy.owns(req.url ?? "")) return legacy.post(req, res);
      return (streamable as StreamableHttpRelay).handle(req, res);
    }
    const stdio = bridge as StdioBridge;
    if (req.method === "GET" && path === "/sse") return stdio.openLegacyStream(req, res);
    if (req.method === "POST" && path === "/messages") return stdio.legacyPost(req, res);
    return stdio.handle(req, res);
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (core.closing) {
      req.resume();
      sendJsonRpcError(res, 503, INTERNAL_ERROR, "the sidecar is shutting down", null, { connection: "close" });
      return;
    }
    // A GET is a long-lived event stream, not work to finish: close() ends those.
    const done = req.method === "GET" ? noop : core.begin();
    res.once("close", done);
    route(req, res).then(done, (error: unknown) => {
      done();
      core.logger.error({ err: error, method: req.method, url: req.url }, "the proxy failed on a request");
      if (!res.headersSent) sendJsonRpcError(res, 500, INTERNAL_ERROR, "the sidecar failed on this request");
      else if (!res.writableEnded) res.end();
    });
  };

  return {
    handler,
    async close() {
      if (core.closing) return;
      core.closing = true;
      await core.drained(core.shutdownGraceMs);
      streamable?.closeStreams();
      legacy?.closeAll();
      await bridge?.closeAll();
      await agent?.close().catch(() => undefined);
    },
    upstreamTools: () => core.knownTools.names,
    stdioSessions: () => bridge?.sessions() ?? [],
  };
}

function noop(): void {}
