// The seams between the sidecar's parts: the proxy (transports, parsing, enforcement)
// on one side; policy sources, identity, metrics and the audit log on the other.

import type { IncomingHttpHeaders } from "node:http";
import type { CallIdentity, Decision, DecisionTable, IdentitySpec, UnpinnedDefinition } from "../policy/index.ts";

/** A compiled policy the sidecar enforces, and where it came from. */
export interface PolicySnapshot {
  readonly table: DecisionTable;
  /** Bundle revision from the operator, or a digest of the files in standalone mode. */
  readonly revision: string;
  /** The policies, as "namespace/name" (files: the file path). */
  readonly policies: readonly string[];
}

/**
 * Where policies come from: files (`--policy`) or the operator's stream. A source keeps
 * the last good snapshot when an update is invalid and reports the failure instead.
 */
export interface PolicySource {
  /** Loads the first snapshot (if it can) and starts watching. */
  start(listener: PolicySourceListener): Promise<void>;
  stop(): Promise<void>;
}

export interface PolicySourceListener {
  onSnapshot(snapshot: PolicySnapshot): void;
  /** An update that could not be applied; the previous snapshot stays in force. */
  onLoadError(message: string): void;
}

export type IdentityOutcome =
  | { readonly ok: true; readonly identity: CallIdentity }
  /** Refused with HTTP 401 and this WWW-Authenticate header, never treated as anonymous. */
  | { readonly ok: false; readonly wwwAuthenticate: string; readonly message: string };

/** Resolves the caller of one HTTP request under the table's `identity`. */
export interface IdentityResolver {
  resolve(spec: IdentitySpec, headers: IncomingHttpHeaders, sessionId: string): Promise<IdentityOutcome>;
}

/** One tools/call decision, for metrics and the audit log (never argument values). */
export interface DecisionRecord {
  readonly tool: string;
  readonly decision: Decision;
  /** The enforced decision's mode, or "audit" for an audit policy's would-be decision. */
  readonly mode: "enforce" | "audit";
  readonly callerId: string;
  /** SHA-256 hex of the RFC 8785 canonical JSON of the arguments. */
  readonly argumentDigest: string;
  /** Only with --log-arguments. */
  readonly arguments?: unknown;
  /** The limits that refused, for mcpwarden_rate_limit_hits_total{tool,counter}. */
  readonly rateLimitCounter?: string;
}

export interface DecisionObserver {
  onDecision(record: DecisionRecord): void;
}

/** A tools/list result named a tool with another definition than the last one the sidecar saw (or its first). */
export interface ToolDefinitionRecord {
  readonly tool: string;
  /** `sha256:<hex>` of the definition as the server listed it. */
  readonly digest: string;
  /** The digest seen before; undefined the first time the tool is listed. */
  readonly previous: string | undefined;
  /** The policies with toolDefinitions for which it is not the pinned definition. */
  readonly unpinned: readonly UnpinnedDefinition[];
}

/** Metrics, the audit log and the operator report listen for new tool definitions. */
export interface ToolDefinitionObserver {
  onToolDefinition(record: ToolDefinitionRecord): void;
}

/**
 * Traces the proxy's POSTs (sidecar/observability/request-tracer.ts: loaded only when the
 * OTEL_* variables turn tracing on). Never given argument values.
 */
export interface RequestTracer {
  /** A span from the POST's arrival, continuing the client's `traceparent` when it sent one. */
  startRequest(headers: IncomingHttpHeaders): RequestTrace;
}

export interface RequestTrace {
  /** What the POST carries, once parsed: its method and, for a tools/call, the tool. */
  identify(method: string, tool: string | undefined): void;
  /** The enforced decision on one tools/call. */
  decided(tool: string, decision: Decision): void;
  /** A child span for the forwarded request; its `headers` carry the child's `traceparent` upstream. */
  upstream(origin: string): UpstreamTrace;
  /** Ends the span (and an upstream span still open) when the client's response is done. */
  end(statusCode: number): void;
}

export interface UpstreamTrace {
  readonly headers: Readonly<Record<string, string>>;
  /** `failure`: why the upstream gave no answer; idempotent. */
  end(statusCode: number | undefined, failure?: string): void;
}
