// What every transport of the proxy shares: the options resolved once, the decision
// dependencies, the tools the upstream listed, and the in-flight request count that
// close() waits on.

import type { DecisionTable } from "../../policy/index.ts";
import type { ToolCallDeps } from "./intake/decide-tool-call.ts";
import { KnownTools } from "./replies/known-tools.ts";
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

export class ProxyCore {
  readonly options: McpProxyOptions;
  readonly limits: ResolvedLimits;
  readonly logger: ProxyLogger;
  readonly now: () => number;
  readonly knownTools = new KnownTools();
  readonly toolCallDeps: ToolCallDeps;
  readonly upstreamTimeoutMs: number;
  readonly sessionIdleTimeoutMs: number;
  readonly shutdownGraceMs: number;
  readonly timings: ProxyTimings | undefined;
  closing = false;
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
    this.toolCallDeps = {
      limiter: options.limiter,
      observer: options.observer,
      now: this.now,
      knownTools: this.knownTools,
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
