// Routes cache changes to the two consumers: the work queue, which reconciles
// McpPolicy status on the leader, and the policy stream, which pushes bundles on
// every replica. Both are level-triggered: they get a key or a namespace, never the
// event, and read the caches.
import type { ChangeKind, ClusterClient, StoreFactory, WatchedStore } from "./cluster.ts";
import { keyOf, objectKey, type McpPolicyObject, type NetworkPolicy, type Pod } from "./kube-objects.ts";
import type { LeaderState } from "./leader/lease-leader-election.ts";
import type { OperatorMetrics } from "./metrics/operator-metrics.ts";
import { errorText, type OperatorLogger } from "./operator-logger.ts";
import { WorkQueue } from "./queue/work-queue.ts";
import type { EventRecorder } from "./reconcile/event-recorder.ts";
import { selectorMatches } from "./reconcile/label-selector.ts";
import { NamespaceWatches, type NamespacedChange } from "./reconcile/namespace-watches.ts";
import type { PolicyCatalog } from "./reconcile/policy-catalog.ts";
import { reconcilePolicy, writtenSelector } from "./reconcile/reconcile-policy.ts";
import type { PolicyStreamServer } from "./stream/policy-stream-server.ts";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, POLICY_LABEL } from "./well-known.ts";

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
}

export class PolicyController {
  readonly #options: PolicyControllerOptions;
  readonly #queue: WorkQueue;
  readonly #namespaces: NamespaceWatches;
  /** The pods each policy selected at its last reconcile, to requeue it when one leaves. */
  readonly #selected = new Map<string, Set<string>>();
  #resync: NodeJS.Timeout | undefined;

  constructor(options: PolicyControllerOptions) {
    this.#options = options;
    const logger = options.logger;
    this.#queue = new WorkQueue({
      process: (key) => this.#reconcile(key),
      concurrency: options.concurrency ?? 2,
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
      const outcome = await reconcilePolicy(key, {
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
    const namespace = policy.metadata?.namespace ?? "";
    this.#options.catalog.invalidate(namespace, kind === "delete" ? policy.metadata?.uid : undefined);
    if (kind === "delete") this.#selected.delete(keyOf(policy));
    this.#namespaces.watchOnly(new Set(this.#options.policies.list().map((p) => p.metadata?.namespace ?? "")));
    // One policy's change moves the revision (and maybe identity conflicts) of pods
    // other policies select too.
    this.#enqueueNamespace(namespace);
    this.#queue.add(keyOf(policy));
    this.#options.stream.refresh([namespace]);
  }

  #onNamespacedChange(change: NamespacedChange): void {
    const namespace = change.object.metadata?.namespace ?? "";
    if (change.kind === "service") return this.#enqueueNamespace(namespace);
    const pod = change.object;
    const name = pod.metadata?.name ?? "";
    for (const policy of this.#options.policies.list(namespace)) {
      const key = keyOf(policy);
      const selects = this.#options.catalog.evaluation(namespace, policy.metadata?.name ?? "")?.enforced?.spec.selector ?? writtenSelector(policy);
      if (this.#selected.get(key)?.has(name) === true || selectorMatches(selects, pod.metadata?.labels)) this.#queue.add(key);
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
