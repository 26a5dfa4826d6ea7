// What every transport of the proxy shares: the options resolved once, the decision
// dependencies, the tools the upstream listed (the catalog), the count of live sessions under
// --max-sessions, and the in-flight request count that close() waits on.

import type { ServerResponse } from "node:http";
import type { DecisionTable } from "../../policy/index.ts";
import { INTERNAL_ERROR, errorResponse } from "../jsonrpc/error-codes.ts";
import type { JsonRpcId } from "../jsonrpc/message.ts";
import type { ToolCallDeps } from "./intake/decide-tool-call.ts";
import { sendReply, type EarlySseReply } from "./replies/early-sse-reply.ts";
import { ToolCatalog } from "./replies/tool-catalog.ts";
import type { RequestTracer, ToolDefinitionObserver } from "../contracts.ts";
import {
  DEFAULT_SESSION_IDLE_TIMEOUT_MS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  positive,
  resolveLimits,
  SILENT_LOGGER,
  type McpProxyOptions,
  type ProxyLogger,
  type ProxyTimings,
  type ResolvedLimits,
} from "./options.ts";

/** What a client refused a session is told to wait: long enough for a burst to pass. */
const SESSION_RETRY_AFTER_SECONDS = 30;

export class ProxyCore {
  readonly options: McpProxyOptions;
  readonly limits: ResolvedLimits;
  readonly logger: ProxyLogger;
  readonly now: () => number;
  readonly catalog = new ToolCatalog();
  /** Told of new tool definitions; one that throws is logged, never breaks a listing. */
  readonly definitions: ToolDefinitionObserver | undefined;
  readonly toolCallDeps: ToolCallDeps;
  readonly upstreamTimeoutMs: number;
  readonly sessionIdleTimeoutMs: number;
  readonly shutdownGraceMs: number;
  readonly timings: ProxyTimings | undefined;
  readonly tracer: RequestTracer | undefined;
  closing = false;
  readonly #sessionCounts: (() => number)[] = [];
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(options: McpProxyOptions) {
    this.options = options;
    this.limits = resolveLimits(options.limits);
    this.logger = options.logger ?? SILENT_LOGGER;
    this.now = options.now ?? Date.now;
    this.upstreamTimeoutMs = positive(options.upstreamTimeoutMs, DEFAULT_UPSTREAM_TIMEOUT_MS, "upstreamTimeoutMs");
    this.sessionIdleTimeoutMs = positive(options.sessionIdleTimeoutMs, DEFAULT_SESSION_IDLE_TIMEOUT_MS, "sessionIdleTimeoutMs");
    this.shutdownGraceMs = positive(options.shutdownGraceMs, DEFAULT_SHUTDOWN_GRACE_MS, "shutdownGraceMs");
    this.timings = options.timings;
    this.tracer = options.tracer;
    const observer = options.definitions;
    this.definitions =
      observer === undefined
        ? undefined
        : {
            onToolDefinition: (record) => {
              try {
                observer.onToolDefinition(record);
              } catch (error) {
                this.logger.error({ err: error, tool: record.tool }, "a tool definition observer failed");
              }
            },
          };
    this.catalog.onFull = () =>
      this.logger.warn({}, "the upstream listed more tool definitions than the sidecar keeps; calls to tools it could not record count as never listed");
    this.toolCallDeps = {
      limiter: options.limiter,
      observer: options.observer,
      now: this.now,
      catalog: this.catalog,
      logArguments: options.logArguments === true,
      logger: this.logger,
      approvals: options.approvals,
    };
  }

  /** The table in force now; a snapshot source that throws counts as no policy (fail closed). */
  table(): DecisionTable | undefined {
    try {
      return this.options.snapshot()?.table;
    } catch (error) {
      this.logger.error({ err: error }, "the policy snapshot could not be read; refusing tool calls");
      return undefined;
    }
  }

  /** Adds a transport's count of live sessions to what --max-sessions bounds. */
  countSessions(count: () => number): void {
    this.#sessionCounts.push(count);
  }

  /** Whether another session may start (idle ones are forgotten or reaped first, by their owners). */
  sessionRoom(): boolean {
    let live = 0;
    for (const count of this.#sessionCounts) live += count();
    return live < this.limits.maxSessions;
  }

  /** The answer to an initialize when the sessions are all taken: 503 with Retry-After. */
  refuseSession(res: ServerResponse, early: EarlySseReply | undefined, id: JsonRpcId | null): void {
    this.logger.warn({ maxSessions: this.limits.maxSessions }, "refused a new MCP session: the sidecar serves its maximum (--max-sessions)");
    const message = `Service Unavailable: the sidecar serves its maximum of ${this.limits.maxSessions} MCP sessions (--max-sessions); idle sessions expire after ${Math.round(this.sessionIdleTimeoutMs / 1000)} s`;
    sendReply(res, early, 503, errorResponse(id, INTERNAL_ERROR, message), { "retry-after": String(SESSION_RETRY_AFTER_SECONDS) });
  }

  /** Reports a duration measured from `startedAt` (performance.now()); a failing sink is ignored. */
  observe(kind: "request" | "upstream", method: string, startedAt: number): void {
    const timings = this.timings;
    if (timings === undefined) return;
    const seconds = (performance.now() - startedAt) / 1000;
    try {
      if (kind === "request") timings.observeRequestDuration(method, seconds);
      else timings.observeUpstreamDuration(method, seconds);
    } catch (error) {
      this.logger.error({ err: error }, "a timing observer failed");
    }
  }

  /** Counts a request that close() should let finish; call the returned function when it has. */
  begin(): () => void {
    this.#inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#inFlight--;
      if (this.#inFlight === 0) for (const waiter of this.#idleWaiters.splice(0)) waiter();
    };
  }

  /** Resolves when no counted request is in flight, or after `ms`. */
  drained(ms: number): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
