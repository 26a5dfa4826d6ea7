// The MCP-aware reverse proxy: one request listener for every transport, in front of one
// upstream (HTTP, or a command spawned per session). Every request's target is normalised
// and routed first (intake/request-target.ts); only MCP endpoints are routed by default:
//   /mcp (and the upstream URL's own path)  Streamable HTTP (POST, GET, DELETE; OPTIONS, HEAD)
//   GET /sse, POST /messages?sessionId=     the legacy HTTP+SSE transport (2024-11-05)
//   /.well-known/oauth-protected-resource   MCP authorization discovery (HTTP upstreams)
//   --forward-path prefixes                 relayed, JSON-RPC bodies decided (HTTP upstreams)
// Anything else is 404, a target that cannot be normalised one way 400.

import type { IncomingMessage, ServerResponse } from "node:http";
import { INTERNAL_ERROR, INVALID_REQUEST } from "../jsonrpc/error-codes.ts";
import { ClientConnections, createClientServer } from "./client-connections.ts";
import { LegacySseRelay } from "./http-upstream/legacy-sse-relay.ts";
import { StreamableHttpRelay } from "./http-upstream/streamable-http-relay.ts";
import { UpstreamEndpoints } from "./http-upstream/upstream-endpoints.ts";
import { createUpstreamAgent } from "./http-upstream/upstream-agent.ts";
import { RedirectLog } from "./http-upstream/upstream-redirect.ts";
import { resolveRequestTarget, type RequestTarget, type RouteTable } from "./intake/request-target.ts";
import { isStdioUpstream, type McpProxyOptions } from "./options.ts";
import { ProxyCore } from "./proxy-core.ts";
import { sendJsonRpcError } from "./replies/http-replies.ts";
import { StdioBridge } from "./stdio-upstream/stdio-bridge.ts";
import type { Server } from "node:http";

export interface McpProxy {
  /** A node:http request listener. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * An HTTP server for clients with this handler, the connection cap (503 with
   * Retry-After beyond it), header and body timeouts, and CONNECT refused.
   */
  createServer(): Server;
  /** Refuses new requests, lets in-flight ones finish (bounded), ends streams, reaps processes. */
  close(): Promise<void>;
  /** Tool names the upstream has listed (for bounded metric labels). */
  upstreamTools(): ReadonlySet<string>;
  /** Live stdio sessions and their server processes (empty for an HTTP upstream). */
  stdioSessions(): readonly { readonly id: string; readonly pid: number | undefined }[];
}

type Route = (req: IncomingMessage, res: ServerResponse, target: Extract<RequestTarget, { ok: true }>) => Promise<void>;

export function createMcpProxy(options: McpProxyOptions): McpProxy {
  const core = new ProxyCore(options);
  const upstream = options.upstream;
  const connections = new ClientConnections(core, options.clientTimeouts);
  let routes: RouteTable;
  let route: Route;
  let closeTransports: () => Promise<void>;
  let stdioSessions: McpProxy["stdioSessions"] = () => [];

  if (isStdioUpstream(upstream)) {
    if ((options.forwardPaths ?? []).length > 0) throw new RangeError("forwardPaths need an HTTP upstream: a stdio server has no other paths");
    const bridge = new StdioBridge(core, upstream);
    routes = { mcpPaths: new Set(["/mcp"]), protectedResourceMetadata: false, forwardPrefixes: [] };
    route = async (req, res, target) => {
      switch (target.kind) {
        case "mcp":
          return bridge.handle(req, res);
        case "legacy-stream":
          return req.method === "GET" ? bridge.openLegacyStream(req, res) : methodNotAllowed(req, res, "GET");
        case "legacy-messages":
          return req.method === "POST" ? bridge.legacyPost(req, res, target.search) : methodNotAllowed(req, res, "POST");
        case "protected-resource-metadata":
        case "forwarded":
          // Not in this route table: a stdio server has no other paths.
          req.resume();
          sendJsonRpcError(res, 404, INVALID_REQUEST, "Not Found");
          return;
        default:
          // A new kind of route is a compile error here; at run time, a 500 (fail closed).
          throw new Error(`no route for ${String(target.kind satisfies never)}`);
      }
    };
    closeTransports = () => bridge.closeAll();
    stdioSessions = () => bridge.sessions();
  } else {
    const endpoints = new UpstreamEndpoints(upstream);
    const agent = createUpstreamAgent();
    const redirects = new RedirectLog();
    const streamable = new StreamableHttpRelay(core, agent, redirects);
    const legacy = new LegacySseRelay(core, endpoints, agent, redirects);
    core.countSessions(() => streamable.liveSessions);
    routes = { mcpPaths: new Set(["/mcp", endpoints.mcpPath]), protectedResourceMetadata: true, forwardPrefixes: options.forwardPaths ?? [] };
    route = async (req, res, target) => {
      switch (target.kind) {
        case "mcp":
          return streamable.handle(req, res, endpoints.mcp(target.search));
        case "legacy-stream":
          return req.method === "GET" ? legacy.openStream(req, res, target.search) : methodNotAllowed(req, res, "GET");
        case "legacy-messages":
          return req.method === "POST" ? legacy.post(req, res, target.search) : methodNotAllowed(req, res, "POST");
        case "protected-resource-metadata":
        case "forwarded": {
          const destination = endpoints.path(target.path, target.search);
          if (destination === undefined) {
            // Unreachable for a normalised path; checked so that no path can ever name another host.
            req.resume();
            sendJsonRpcError(res, 400, INVALID_REQUEST, "Bad Request: the path does not stay on the MCP server's origin");
            return;
          }
          return target.kind === "forwarded" ? streamable.forwarded(req, res, destination) : streamable.protectedResourceMetadata(req, res, destination);
        }
        default:
          throw new Error(`no route for ${String(target.kind satisfies never)}`);
      }
    };
    closeTransports = async () => {
      streamable.closeStreams();
      legacy.closeAll();
      await agent.close().catch(() => undefined);
    };
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (core.closing) {
      req.resume();
      sendJsonRpcError(res, 503, INTERNAL_ERROR, "the sidecar is shutting down", null, { connection: "close" });
      return;
    }
    const target = resolveRequestTarget(req.method, req.url, routes);
    if (!target.ok) {
      req.resume();
      sendJsonRpcError(res, target.status, INVALID_REQUEST, target.message, null, target.status === 400 ? { connection: "close" } : {});
      return;
    }
    // A GET is a long-lived event stream, not work to finish: close() ends those.
    const done = req.method === "GET" ? noop : core.begin();
    res.once("close", done);
    route(req, res, target).then(done, (error: unknown) => {
      done();
      core.logger.error({ err: error, method: req.method, path: target.path }, "the proxy failed on a request");
      if (!res.headersSent) sendJsonRpcError(res, 500, INTERNAL_ERROR, "the sidecar failed on this request");
      else if (!res.writableEnded) res.end();
    });
  };

  return {
    handler,
    createServer: () => createClientServer(handler, connections),
    async close() {
      if (core.closing) return;
      core.closing = true;
      await core.drained(core.shutdownGraceMs);
      await closeTransports();
    },
    upstreamTools: () => core.catalog.names,
    stdioSessions,
  };
}

function methodNotAllowed(req: IncomingMessage, res: ServerResponse, allow: string): void {
  req.resume();
  sendJsonRpcError(res, 405, INVALID_REQUEST, "Method not allowed.", null, allow === "" ? {} : { allow });
}

function noop(): void {}
