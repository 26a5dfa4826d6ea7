// The operator's metrics (ARCHITECTURE.md "Metrics"), on their own registry so tests
// and several operators in one process never share counters. Label values are
// bounded: results are fixed words; namespace/policy name existing policies and are
// removed with them.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** From 50 µs, as every latency histogram in the project. */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type InjectionResult = "injected" | "skipped" | "refused" | "error";

export class OperatorMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<"result">;
  readonly reconcileDuration: Histogram;
  readonly connectedSidecars: Gauge;
  readonly pushDuration: Histogram;
  readonly policyCondition: Gauge<"namespace" | "policy" | "type">;
  readonly injectionsTotal: Counter<"result">;
  readonly leader: Gauge;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registry = new Registry();
    this.registry = registry;
    if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
    this.reconcileTotal = new Counter({
      name: "mcpwarden_operator_reconcile_total",
      help: "McpPolicy reconciles by result (success, error).",
      labelNames: ["result"],
      registers: [registry],
    });
    this.reconcileDuration = new Histogram({
      name: "mcpwarden_operator_reconcile_duration_seconds",
      help: "Time to reconcile one McpPolicy, API writes included.",
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.connectedSidecars = new Gauge({
      name: "mcpwarden_operator_connected_sidecars",
      help: "Policy streams open to sidecars on this replica.",
      registers: [registry],
    });
    this.pushDuration = new Histogram({
      name: "mcpwarden_operator_push_duration_seconds",
      help: "Time from a policy or pod change to the new bundles written on every affected stream of this replica.",
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.policyCondition = new Gauge({
      name: "mcpwarden_operator_policy_condition",
      help: "1 when the McpPolicy's condition (Accepted, Programmed) is True, else 0. Set by the leader.",
      labelNames: ["namespace", "policy", "type"],
      registers: [registry],
    });
    this.injectionsTotal = new Counter({
      name: "mcpwarden_webhook_injections_total",
      help: "Pod admissions by result (injected, skipped, refused, error).",
      labelNames: ["result"],
      registers: [registry],
    });
    this.leader = new Gauge({
      name: "mcpwarden_operator_leader",
      help: "1 while this replica holds the leader Lease (and alone writes status).",
      registers: [registry],
    });
    for (const result of ["success", "error"] as const) this.reconcileTotal.inc({ result }, 0);
    for (const result of ["injected", "skipped", "refused", "error"] as const) this.injectionsTotal.inc({ result }, 0);
  }

  forgetPolicy(namespace: string, policy: string): void {
    for (const type of ["Accepted", "Programmed"]) this.policyCondition.remove({ namespace, policy, type });
  }
}
