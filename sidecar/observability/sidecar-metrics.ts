// The sidecar's metrics (ARCHITECTURE.md "Metrics"), in a registry of their own so that
// tests and several sidecars in one process never share counters.
//
// `mcpwarden_policy_revision` is an info-style gauge: `{revision="<sha256 or bundle
// revision>"} 1`, one series at a time. Revisions are digests, not numbers, and
// `count by (revision) (mcpwarden_policy_revision)` shows at once which pods enforce which.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "./prom-client-modules.ts";
import type { DecisionObserver, DecisionRecord, PolicySnapshot, ToolDefinitionObserver, ToolDefinitionRecord } from "../contracts.ts";
import { methodLabel, ToolLabeler } from "./metric-labels.ts";

/** From 50 µs: the sidecar's own time is tens of microseconds. */
const LATENCY_BUCKETS_SECONDS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
];
/** From 50 µs like every latency here, up to the 24 h an approval may take. */
const APPROVAL_WAIT_BUCKETS_SECONDS = [0.00005, 0.001, 0.1, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];

export type ApprovalOutcome = "approved" | "denied" | "expired" | "timed_out";

export interface SidecarMetricsOptions {
  /** Node's process_* and nodejs_* metrics too (RSS, event-loop lag). Default true. */
  processMetrics?: boolean;
}

export class SidecarMetrics implements DecisionObserver, ToolDefinitionObserver {
  readonly registry = new Registry();
  readonly tools = new ToolLabeler();

  readonly #toolCalls: Counter<"tool" | "decision" | "policy" | "mode">;
  readonly #rateLimitHits: Counter<"tool" | "counter">;
  readonly #requestDuration: Histogram<"method">;
  readonly #upstreamDuration: Histogram<"method">;
  readonly #policyRevision: Gauge<"revision">;
  readonly #policyLoadErrors: Counter;
  readonly #controlPlaneConnected: Gauge;
  readonly #rateLimitFallback: Gauge;
  readonly #rateLimitEvictions: Counter;
  readonly #approvals: Counter<"tool" | "outcome">;
  readonly #approvalWait: Histogram;
  readonly #approvalsPending: Gauge;
  readonly #definitionChanges: Counter<"tool" | "policy">;

  constructor(options: SidecarMetricsOptions = {}) {
    const registers = [this.registry];
    this.#toolCalls = new Counter({
      name: "mcpwarden_tool_calls_total",
      help: "tools/call requests by decision; mode=audit counts an audit policy's would-be decision",
      labelNames: ["tool", "decision", "policy", "mode"],
      registers,
    });
    this.#rateLimitHits = new Counter({
      name: "mcpwarden_rate_limit_hits_total",
      help: "tools/call requests refused by a rate limit, by the counter that refused",
      labelNames: ["tool", "counter"],
      registers,
    });
    this.#requestDuration = new Histogram({
      name: "mcpwarden_request_duration_seconds",
      help: "time the sidecar itself spends on a request (parsing, deciding, relaying), upstream time excluded",
      labelNames: ["method"],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.#upstreamDuration = new Histogram({
      name: "mcpwarden_upstream_duration_seconds",
      help: "time from forwarding a request to the upstream's reply",
      labelNames: ["method"],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.#policyRevision = new Gauge({
      name: "mcpwarden_policy_revision",
      help: "1 for the policy revision in force (info-style: the revision is the label); no series before a policy loads",
      labelNames: ["revision"],
      registers,
    });
    this.#policyLoadErrors = new Counter({
      name: "mcpwarden_policy_load_errors_total",
      help: "policy updates that could not be applied (the previous policy stays in force)",
      registers,
    });
    this.#controlPlaneConnected = new Gauge({
      name: "mcpwarden_control_plane_connected",
      help: "1 while the operator's policy stream is connected (always 0 in standalone mode)",
      registers,
    });
    this.#rateLimitFallback = new Gauge({
      name: "mcpwarden_rate_limit_store_fallback",
      help: "1 while the shared rate-limit store is unreachable and its failure mode decides",
      registers,
    });
    this.#rateLimitEvictions = new Counter({
      name: "mcpwarden_rate_limit_evictions_total",
      help: "calls refused because the in-memory rate-limit store was full of live keys",
      registers,
    });
    this.#approvals = new Counter({
      name: "mcpwarden_approvals_total",
      help: "approval requests by outcome",
      labelNames: ["tool", "outcome"],
      registers,
    });
    this.#approvalWait = new Histogram({
      name: "mcpwarden_approval_wait_seconds",
      help: "time a call waited for its approval",
      buckets: APPROVAL_WAIT_BUCKETS_SECONDS,
      registers,
    });
    this.#approvalsPending = new Gauge({
      name: "mcpwarden_approvals_pending",
      help: "calls waiting for an approval now",
      registers,
    });
    this.#definitionChanges = new Counter({
      name: "mcpwarden_tool_definition_changes_total",
      help: "tools/list results showing a tool definition that is not the one a policy pins (or that has no pin), counted when it first differs from the last definition seen",
      labelNames: ["tool", "policy"],
      registers,
    });
    this.#controlPlaneConnected.set(0);
    this.#rateLimitFallback.set(0);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  onDecision(record: DecisionRecord): void {
    const tool = this.tools.label(record.tool);
    const { decision, policy } = record.decision;
    this.#toolCalls.inc({ tool, decision, policy, mode: record.mode });
    if (decision === "rate_limited" && record.rateLimitCounter !== undefined) {
      this.#rateLimitHits.inc({ tool, counter: record.rateLimitCounter });
    }
  }

  onToolDefinition(record: ToolDefinitionRecord): void {
    if (record.unpinned.length === 0) return;
    const tool = this.tools.label(record.tool);
    for (const { policy } of record.unpinned) this.#definitionChanges.inc({ tool, policy });
  }

  /** Names from an upstream tools/list result, so that their calls get their own label. */
  observeToolsList(names: Iterable<string>): void {
    this.tools.observeToolsList(names);
  }

  observeRequestDuration(method: string, seconds: number): void {
    this.#requestDuration.observe({ method: methodLabel(method) }, seconds);
  }

  observeUpstreamDuration(method: string, seconds: number): void {
    this.#upstreamDuration.observe({ method: methodLabel(method) }, seconds);
  }

  policyApplied(snapshot: PolicySnapshot): void {
    this.tools.observePolicy(snapshot.table);
    this.#policyRevision.reset();
    this.#policyRevision.set({ revision: snapshot.revision }, 1);
  }

  policyLoadFailed(): void {
    this.#policyLoadErrors.inc();
  }

  setControlPlaneConnected(connected: boolean): void {
    this.#controlPlaneConnected.set(connected ? 1 : 0);
  }

  setRateLimitFallback(active: boolean): void {
    this.#rateLimitFallback.set(active ? 1 : 0);
  }

  rateLimitStoreFull(): void {
    this.#rateLimitEvictions.inc();
  }

  approvalRequested(): void {
    this.#approvalsPending.inc();
  }

  approvalFinished(tool: string, outcome: ApprovalOutcome, waitSeconds: number): void {
    this.#approvalsPending.dec();
    this.#approvals.inc({ tool: this.tools.label(tool), outcome });
    this.#approvalWait.observe(waitSeconds);
  }

  /** The text exposition for /metrics. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }
}
