// What createMcpProxy is given, and the defaults that fill what it is not.

import type { RateLimitAdmitter } from "../../policy/index.ts";
import { DEFAULT_MAX_DEPTH } from "../jsonrpc/strict-json.ts";
import type { DecisionObserver, IdentityResolver, PolicySnapshot, RequestTracer, ToolDefinitionObserver } from "../contracts.ts";
import type { ApprovalGate } from "../approvals/approval-gate.ts";
import { SIDECAR_TUNABLES } from "../../protocol/sidecar-tunables.ts";

/** An MCP server reached over HTTP: Streamable HTTP at `url`, the legacy SSE transport at `sseUrl`. */
export interface HttpUpstream {
  /** The Streamable HTTP endpoint, e.g. http://127.0.0.1:8080/mcp. */
  readonly url: string;
  /** The legacy (2024-11-05) SSE endpoint. Default: `/sse` on the same origin. */
  readonly sseUrl?: string;
}

/** An MCP server spawned per session, speaking newline-delimited JSON-RPC on stdio. */
export interface StdioUpstream {
  readonly command: string;
  readonly args: readonly string[];
  /** Added to the sidecar's own environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/**
 * An MCP server in another container of the pod, started per session by mcp-warden-launcher
 * (launcher/): each connection to its Unix socket is one process's stdin and stdout.
 */
export interface LauncherUpstream {
  /** The launcher's socket, e.g. /var/run/mcp-warden/stdio/server.sock. */
  readonly socket: string;
}

/** pino-compatible: (object, message). */
export interface ProxyLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/**
 * What the sidecar holds in memory, and how many clients and sessions it serves: every
 * cap bounds one thing and fails only the request that exceeds it (protocol/sidecar-tunables.ts
 * has the defaults and what each bounds).
 */
export interface McpProxyLimits {
  /** Largest request body (`--max-request-bytes`). */
  readonly maxBodyBytes?: number;
  /** Deepest nesting of a message; default 64. */
  readonly maxDepth?: number;
  /** Largest reply read whole to be rewritten (`--max-inspected-reply-bytes`); every other reply streams. */
  readonly maxInspectedReplyBytes?: number;
  /** Largest line a stdio server may write (`--max-stdio-line-bytes`). */
  readonly maxStdioLineBytes?: number;
  /** Server messages held for a stdio client that is not reading (`--max-pending-server-message-bytes`). */
  readonly maxPendingServerMessageBytes?: number;
  /** Concurrent client connections (`--max-connections`). */
  readonly maxConnections?: number;
  /** Live MCP sessions (`--max-sessions`). */
  readonly maxSessions?: number;
}

/** How long clients may take to send a request (`--header-timeout`, `--body-timeout`). */
export interface ClientTimeouts {
  readonly headerTimeoutMs?: number;
  readonly bodyTimeoutMs?: number;
}

/** Where the proxy reports its timings (SidecarMetrics fits). `method` is a JSON-RPC method. */
export interface ProxyTimings {
  /** The sidecar's own time on a message: arrival to forwarded (or to its answer, when refused). */
  observeRequestDuration(method: string, seconds: number): void;
  /** The upstream's time: forwarded to its reply (headers and body for JSON, the answer for stdio). */
  observeUpstreamDuration(method: string, seconds: number): void;
}

export interface McpProxyOptions {
  readonly upstream: HttpUpstream | StdioUpstream | LauncherUpstream;
  /**
   * Paths besides the MCP endpoints that are forwarded to an HTTP upstream (`--forward-path`),
   * normalised; each matches whole path segments. A JSON-RPC body sent there is decided
   * exactly as on the MCP endpoint.
   */
  readonly forwardPaths?: readonly string[];
  /** undefined: no policy yet (not ready), and every tools/call is refused. */
  snapshot(): PolicySnapshot | undefined;
  readonly identity: IdentityResolver;
  readonly limiter: RateLimitAdmitter;
  readonly observer: DecisionObserver;
  /** Told when a tools/list result shows a tool definition other than the last one seen (metrics, audit, the operator). */
  readonly definitions?: ToolDefinitionObserver;
  readonly now?: () => number;
  readonly limits?: McpProxyLimits;
  /**
   * How long an upstream may stay silent on a request before the client is answered with
   * a timeout error. Any message on the request's stream (progress, logging) restarts it.
   * Default 120 s: above the MCP SDK client's own 60 s default, so a client's timeout
   * normally fires first and the sidecar's catches only clients that wait forever.
   */
  readonly upstreamTimeoutMs?: number;
  /** A stdio session unused this long is ended and its process reaped. Default 30 min. */
  readonly sessionIdleTimeoutMs?: number;
  readonly clientTimeouts?: ClientTimeouts;
  /** close(): how long in-flight requests may take to finish. Default 10 s. */
  readonly shutdownGraceMs?: number;
  /** Put argument values in decision records (`--log-arguments`). */
  readonly logArguments?: boolean;
  readonly logger?: ProxyLogger;
  readonly timings?: ProxyTimings;
  /** Holds calls that need approval (sidecar/approvals/); without it they are refused. */
  readonly approvals?: ApprovalGate;
  /** Traces each POST and its forwarded request; undefined: no tracing (nothing of OpenTelemetry loaded). */
  readonly tracer?: RequestTracer;
}

export type ResolvedLimits = { readonly [key in keyof McpProxyLimits]-?: number };

export const DEFAULT_UPSTREAM_TIMEOUT_MS = SIDECAR_TUNABLES.upstreamTimeout.defaultValue;
export const DEFAULT_SESSION_IDLE_TIMEOUT_MS = SIDECAR_TUNABLES.sessionIdleTimeout.defaultValue;
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export function resolveLimits(limits: McpProxyLimits | undefined): ResolvedLimits {
  return {
    maxBodyBytes: positive(limits?.maxBodyBytes, SIDECAR_TUNABLES.maxRequestBytes.defaultValue, "maxBodyBytes"),
    maxDepth: positive(limits?.maxDepth, DEFAULT_MAX_DEPTH, "maxDepth"),
    maxInspectedReplyBytes: positive(limits?.maxInspectedReplyBytes, SIDECAR_TUNABLES.maxInspectedReplyBytes.defaultValue, "maxInspectedReplyBytes"),
    maxStdioLineBytes: positive(limits?.maxStdioLineBytes, SIDECAR_TUNABLES.maxStdioLineBytes.defaultValue, "maxStdioLineBytes"),
    maxPendingServerMessageBytes: positive(limits?.maxPendingServerMessageBytes, SIDECAR_TUNABLES.maxPendingServerMessageBytes.defaultValue, "maxPendingServerMessageBytes"),
    maxConnections: positive(limits?.maxConnections, SIDECAR_TUNABLES.maxConnections.defaultValue, "maxConnections"),
    maxSessions: positive(limits?.maxSessions, SIDECAR_TUNABLES.maxSessions.defaultValue, "maxSessions"),
  };
}

export function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${String(value)}`);
  return value;
}

/** A server that speaks stdio: spawned by the sidecar, or run by the launcher. */
export function isStdioUpstream(upstream: HttpUpstream | StdioUpstream | LauncherUpstream): upstream is StdioUpstream | LauncherUpstream {
  return typeof (upstream as StdioUpstream).command === "string" || typeof (upstream as LauncherUpstream).socket === "string";
}

export const SILENT_LOGGER: ProxyLogger = { info() {}, warn() {}, error() {} };
