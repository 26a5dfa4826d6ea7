// Pods and Services are watched only in namespaces that hold McpPolicies (the objects
// policies can select), each namespace with its own pair of watches, started when its
// first policy appears and stopped when its last one goes.
import type { ChangeKind, ObjectStore, StoreFactory, WatchedStore } from "../cluster.ts";
import type { KubeObject, Pod, Service } from "../kube-objects.ts";
import { errorText, type OperatorLogger } from "../operator-logger.ts";

export type NamespacedChange = { kind: "pod"; object: Pod; change: ChangeKind } | { kind: "service"; object: Service; change: ChangeKind };

interface NamespaceWatch {
  pods: WatchedStore<Pod>;
  services: WatchedStore<Service>;
}

export class NamespaceWatches {
  readonly #factory: StoreFactory;
  readonly #onChange: (change: NamespacedChange) => void;
  readonly #onSynced: (namespace: string) => void;
  readonly #logger: OperatorLogger;
  readonly #watches = new Map<string, NamespaceWatch>();
  #stopped = false;

  readonly pods: ObjectStore<Pod> = {
    get: (namespace, name) => this.#watches.get(namespace)?.pods.get(namespace, name),
    list: (namespace) => (namespace === undefined ? [...this.#watches.values()].flatMap((watch) => watch.pods.list()) : (this.#watches.get(namespace)?.pods.list(namespace) ?? [])),
  };

  readonly services: ObjectStore<Service> = {
    get: (namespace, name) => this.#watches.get(namespace)?.services.get(namespace, name),
    list: (namespace) => (namespace === undefined ? [...this.#watches.values()].flatMap((watch) => watch.services.list()) : (this.#watches.get(namespace)?.services.list(namespace) ?? [])),
  };

  constructor(factory: StoreFactory, onChange: (change: NamespacedChange) => void, onSynced: (namespace: string) => void, logger: OperatorLogger) {
    this.#factory = factory;
    this.#onChange = onChange;
    this.#onSynced = onSynced;
    this.#logger = logger;
  }

  /** Watches exactly these namespaces from now on. */
  watchOnly(namespaces: ReadonlySet<string>): void {
    if (this.#stopped) return;
    for (const namespace of namespaces) if (!this.#watches.has(namespace)) this.#start(namespace);
    for (const [namespace, watch] of this.#watches) {
      if (namespaces.has(namespace)) continue;
      this.#watches.delete(namespace);
      void stopBoth(watch);
      this.#logger.debug({ namespace }, "stopped watching pods and services");
    }
  }

  /** Both watches of the namespace have listed. */
  synced(namespace: string): boolean {
    const watch = this.#watches.get(namespace);
    return watch !== undefined && watch.pods.synced && watch.services.synced;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const watches = [...this.#watches.values()];
    this.#watches.clear();
    await Promise.all(watches.map(stopBoth));
  }

  #start(namespace: string): void {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
    const watch: NamespaceWatch = {
      pods: this.#factory.watch<Pod>({ path: `${path}/pods`, description: `pods in ${namespace}` }),
      services: this.#factory.watch<Service>({ path: `${path}/services`, description: `services in ${namespace}` }),
    };
    watch.pods.onChange((object, change) => this.#forward(watch, { kind: "pod", object, change }));
    watch.services.onChange((object, change) => this.#forward(watch, { kind: "service", object, change }));
    this.#watches.set(namespace, watch);
    this.#logger.debug({ namespace }, "watching pods and services");
    void Promise.all([watch.pods.start(), watch.services.start()]).then(
      () => {
        if (this.#watches.get(namespace) === watch) this.#onSynced(namespace);
      },
      (error: unknown) => this.#logger.warn({ namespace, err: errorText(error) }, "could not start watching the namespace"),
    );
  }

  #forward(watch: NamespaceWatch, change: NamespacedChange): void {
    // Events from a namespace no longer watched (stopped a moment ago) are stale.
    if (this.#watches.get(namespaceOf(change.object)) !== watch) return;
    this.#onChange(change);
  }
}

function namespaceOf(object: KubeObject): string {
  return object.metadata?.namespace ?? "";
}

async function stopBoth(watch: NamespaceWatch): Promise<void> {
  await Promise.all([watch.pods.stop(), watch.services.stop()]);
}
