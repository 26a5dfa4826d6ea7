// Routes cache changes to the two consumers: the work queue, which reconciles
// McpPolicy status on the leader, and the policy stream, which pushes bundles on
// every replica. Both are level-triggered: they get a key or a namespace, never the
// event, and read the caches.
import type { ChangeKind, ClusterClient, StoreFactory, WatchedStore } from "./cluster.ts";
import { keyOf, objectKey, type McpPolicyObject, type NetworkPolicy, type Pod } from "./kube-objects.ts";
import type { LeaderState } from "./leader/lease-leader-election.ts";
import type { OperatorMetrics } from "./metrics/operator-metrics.ts";
import type { SpanRecorder } from "../tracing/span-recorder.ts";
import { errorText, type OperatorLogger } from "./operator-logger.ts";
import { WorkQueue } from "./queue/work-queue.ts";
import type { EventRecorder } from "./reconcile/event-recorder.ts";
import { labelSetKey, selectorMatches } from "./reconcile/label-selector.ts";
import { NamespaceWatches, type NamespacedChange } from "./reconcile/namespace-watches.ts";
import type { PolicyCatalog } from "./reconcile/policy-catalog.ts";
import { reconcilePolicy, writtenSelector } from "./reconcile/reconcile-policy.ts";
import type { PolicyStreamServer } from "./stream/policy-stream-server.ts";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, POLICY_LABEL } from "./well-known.ts";

/** At most one status write per policy this often (acks arrive in bursts). */
const STATUS_WRITE_INTERVAL_MS = 250;

export interface PolicyControllerOptions {
  policies: WatchedStore<McpPolicyObject>;
  injectedPods: WatchedStore<Pod>;
  networkPolicies: WatchedStore<NetworkPolicy>;
  factory: StoreFactory;
  catalog: PolicyCatalog;
  client: ClusterClient;
  events: EventRecorder;
  metrics: OperatorMetrics;
  leader: LeaderState;
  stream: PolicyStreamServer;
  /** Every policy is reconciled again this often (leader), as a safety net. */
  resyncMs: number;
  concurrency?: number;
  logger: OperatorLogger;
  /** A span per reconcile; undefined: tracing is off. */
  tracing?: SpanRecorder;
}

export class PolicyController {
  readonly #options: PolicyControllerOptions;
  readonly #queue: WorkQueue;
  readonly #namespaces: NamespaceWatches;
  /** The pods each policy selected at its last reconcile, to requeue it when one leaves. */
  readonly #selected = new Map<string, Set<string>>();
  /** uid@generation of each policy: a change of anything else does not concern pods. */
  readonly #versions = new Map<string, string>();
  /** Labels, phase and deletion of each pod (by uid), to tell an ack from a move. */
  readonly #podShapes = new Map<string, string>();
  readonly #statusWrittenAt = new Map<string, number>();
  /**
   * Policy and pod changes of this turn, per namespace, handled together right after it:
   * a first list delivers every policy (or pod) of a namespace at once, and handling each
   * alone walked the whole namespace each time (quadratic in time and in garbage).
   */
  readonly #pending = new Map<string, PendingNamespace>();
  #watchedNamespacesChanged = false;
  #flushScheduled = false;
  #resync: NodeJS.Timeout | undefined;

  constructor(options: PolicyControllerOptions) {
    this.#options = options;
    const logger = options.logger;
    this.#queue = new WorkQueue({
      process: (key) => this.#reconcile(key),
      concurrency: options.concurrency ?? 4,
      baseDelayMs: 50,
      maxDelayMs: 60_000,
      onError: (key, error, retryInMs) => logger.warn({ policy: key, err: errorText(error), retryInMs }, "reconcile failed; retrying"),
    });
    this.#namespaces = new NamespaceWatches(
      options.factory,
      (change) => this.#onNamespacedChange(change),
      (namespace) => this.#enqueueNamespace(namespace),
      logger,
    );
    options.policies.onChange((policy, kind) => this.#onPolicyChange(policy, kind));
    options.injectedPods.onChange((pod, kind) => this.#onInjectedPodChange(pod, kind));
    options.networkPolicies.onChange((policy) => this.#onNetworkPolicyChange(policy));
  }

  /** Namespaced pod and service caches (for the stream's authenticator and tests). */
  get namespaceWatches(): NamespaceWatches {
    return this.#namespaces;
  }

  start(): void {
    this.#resync = setInterval(() => this.enqueueAll(), this.#options.resyncMs);
    this.#resync.unref();
  }

  /** Every policy, e.g. on becoming the leader. */
  enqueueAll(): void {
    for (const policy of this.#options.policies.list()) this.#queue.add(keyOf(policy));
  }

  idle(): Promise<void> {
    return this.#queue.idle();
  }

  async stop(): Promise<void> {
    clearInterval(this.#resync);
    await this.#queue.shutDown();
    await this.#namespaces.stop();
  }

  async #reconcile(key: string): Promise<void> {
    const options = this.#options;
    if (!options.leader.isLeader) return;
    if (!options.policies.synced || !options.networkPolicies.synced) {
      this.#queue.addAfter(key, 200);
      return;
    }
    const started = performance.now();
    try {
      const reconcile = (): ReturnType<typeof reconcilePolicy> => reconcilePolicy(key, {
        policies: options.policies,
        pods: this.#namespaces.pods,
        services: this.#namespaces.services,
        networkPolicies: options.networkPolicies,
        namespaceSynced: (namespace) => this.#namespaces.synced(namespace),
        catalog: options.catalog,
        client: options.client,
        events: options.events,
        metrics: options.metrics,
        now: () => new Date(),
        statusWriteDelay: (written) => Math.max(0, (this.#statusWrittenAt.get(written) ?? Number.NEGATIVE_INFINITY) + STATUS_WRITE_INTERVAL_MS - performance.now()),
        onStatusWritten: (written) => void this.#statusWrittenAt.set(written, performance.now()),
      });
      const outcome =
        options.tracing === undefined
          ? await reconcile()
          : await options.tracing.inSpan("reconcile McpPolicy", { "mcpwarden.policy": key }, async (span) => {
              const result = await reconcile();
              span.setAttributes(result.done ? { "mcpwarden.selected_pods": result.selectedPods.length } : { "mcpwarden.retry_in_ms": result.retryInMs });
              return result;
            });
      if (outcome.done) {
        if (outcome.selectedPods.length > 0) this.#selected.set(key, new Set(outcome.selectedPods));
        else this.#selected.delete(key);
      } else {
        this.#queue.addAfter(key, outcome.retryInMs);
      }
      options.metrics.reconcileTotal.inc({ result: "success" });
    } catch (error) {
      options.metrics.reconcileTotal.inc({ result: "error" });
      throw error;
    } finally {
      options.metrics.reconcileDuration.observe((performance.now() - started) / 1000);
    }
  }

  #onPolicyChange(policy: McpPolicyObject, kind: ChangeKind): void {
    const key = keyOf(policy);
    const namespace = policy.metadata?.namespace ?? "";
    const { catalog } = this.#options;
    const version = kind === "delete" ? undefined : `${policy.metadata?.uid ?? ""}@${policy.metadata?.generation ?? 0}`;
    const previous = this.#versions.get(key);
    if (version !== undefined && version === previous) {
      // Status or metadata only (often our own status write): nothing pods enforce changed.
      this.#queue.add(key);
      return;
    }
    if (version === undefined) this.#versions.delete(key);
    else this.#versions.set(key, version);

    const pending = this.#pendingFor(namespace);
    // Acceptance as it was before the first change of this turn, to tell whose changed.
    pending.acceptedBefore ??= catalog.acceptance(namespace) ?? "unknown";
    catalog.invalidate(namespace, kind === "delete" ? policy.metadata?.uid : undefined);
    if (previous === undefined || version === undefined) this.#watchedNamespacesChanged = true;
    const reconcile = pending.policies;
    reconcile.add(key);
    // Others whose status this moves: those whose acceptance changed (counters are one
    // budget per namespace: compared once the turn's changes are in), and those sharing a
    // pod with this policy (the pod's revision and identity conflicts changed).
    const others = [...this.#selected].filter(([other]) => other !== key && other.startsWith(`${namespace}/`));
    if (others.length > 0) {
      // Pods it selected at its last reconcile, and pods its selector (as written) matches now.
      const affected = new Set(this.#selected.get(key) ?? []);
      if (version !== undefined) {
        const selector = writtenSelector(policy);
        for (const pod of this.#namespaces.pods.list(namespace)) if (selectorMatches(selector, pod.metadata?.labels)) affected.add(pod.metadata?.name ?? "");
      }
      for (const [other, pods] of others) {
        for (const pod of pods) {
          if (affected.has(pod)) {
            reconcile.add(other);
            break;
          }
        }
      }
    }
    if (kind === "delete") {
      this.#selected.delete(key);
      this.#statusWrittenAt.delete(key);
    }
    // Sidecars first: the push is what enforcement waits for; status can wait a turn.
    this.#options.stream.refresh([namespace]);
  }

  #onNamespacedChange(change: NamespacedChange): void {
    const namespace = change.object.metadata?.namespace ?? "";
    if (change.kind === "service") return this.#enqueueNamespace(namespace);
    const pod = change.object;
    const name = pod.metadata?.name ?? "";
    const uid = pod.metadata?.uid ?? "";
    // What decides which policies select the pod and whether it counts; an ack changes none of it.
    const shape = change.change === "delete" ? undefined : JSON.stringify([pod.metadata?.labels ?? {}, pod.status?.phase ?? "", pod.metadata?.deletionTimestamp !== undefined]);
    const before = this.#podShapes.get(uid);
    if (shape === undefined) this.#podShapes.delete(uid);
    else this.#podShapes.set(uid, shape);
    if (shape !== undefined && shape === before) {
      for (const [key, pods] of this.#selected) if (pods.has(name) && key.startsWith(`${namespace}/`)) this.#queue.add(key);
      return;
    }
    // Policies that selected it or select it now; pods sharing labels are matched once.
    const pending = this.#pendingFor(namespace);
    pending.pods.add(name);
    const labels = pod.metadata?.labels ?? {};
    pending.podLabels.set(labelSetKey(labels), labels);
  }

  #pendingFor(namespace: string): PendingNamespace {
    let pending = this.#pending.get(namespace);
    if (pending === undefined) {
      pending = { acceptedBefore: undefined, policies: new Set(), pods: new Set(), podLabels: new Map() };
      this.#pending.set(namespace, pending);
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flushPending());
    }
    return pending;
  }

  #flushPending(): void {
    this.#flushScheduled = false;
    const { policies, catalog } = this.#options;
    if (this.#watchedNamespacesChanged) {
      this.#watchedNamespacesChanged = false;
      this.#namespaces.watchOnly(new Set(policies.list().map((p) => p.metadata?.namespace ?? "")));
    }
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const [namespace, changes] of pending) {
      const reconcile = changes.policies;
      if (changes.acceptedBefore === "unknown") {
        for (const other of policies.list(namespace)) reconcile.add(keyOf(other)); // nothing to compare with: all of them
      } else if (changes.acceptedBefore !== undefined) {
        const acceptedBefore = changes.acceptedBefore;
        for (const [name, state] of catalog.acceptance(namespace, true) ?? []) if (acceptedBefore.get(name) !== state) reconcile.add(objectKey(namespace, name));
      }
      if (changes.pods.size > 0) {
        for (const policy of policies.list(namespace)) {
          const key = keyOf(policy);
          if (reconcile.has(key)) continue;
          const selected = this.#selected.get(key);
          const selects = catalog.evaluation(namespace, policy.metadata?.name ?? "")?.enforced?.spec.selector ?? writtenSelector(policy);
          const moved =
            (selected !== undefined && [...changes.pods].some((name) => selected.has(name))) ||
            [...changes.podLabels.values()].some((labels) => selectorMatches(selects, labels));
          if (moved) reconcile.add(key);
        }
      }
      for (const key of reconcile) this.#queue.add(key);
    }
  }

  #onInjectedPodChange(pod: Pod, kind: ChangeKind): void {
    const uid = pod.metadata?.uid ?? "";
    if (kind === "delete") this.#options.stream.disconnectPod(uid);
    else this.#options.stream.refreshPod(uid);
  }

  #onNetworkPolicyChange(policy: NetworkPolicy): void {
    if (policy.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return;
    const owner = policy.metadata.ownerReferences?.find((ref) => ref.kind === "McpPolicy")?.name ?? policy.metadata.labels[POLICY_LABEL];
    if (owner !== undefined) this.#queue.add(objectKey(policy.metadata.namespace, owner));
  }

  #enqueueNamespace(namespace: string): void {
    for (const policy of this.#options.policies.list(namespace)) this.#queue.add(keyOf(policy));
  }
}

interface PendingNamespace {
  /** Each policy's acceptance before the turn's first policy change; "unknown" when the namespace was not evaluated. */
  acceptedBefore: Map<string, string> | "unknown" | undefined;
  /** Policies to reconcile. */
  readonly policies: Set<string>;
  /** Pods whose labels, phase or deletion changed, and their label sets (by content). */
  readonly pods: Set<string>;
  readonly podLabels: Map<string, Readonly<Record<string, string>>>;
}
