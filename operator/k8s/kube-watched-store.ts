// WatchedStore on client-node's ListWatch. ListWatch stops for good after most errors
// and tells its `error` listeners; stopping it on purpose fires `error` too (the
// aborted request). So a restart-on-error handler must know whether we are stopping,
// or stop() would be undone by the very error it caused.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from "@kubernetes/client-node";
import type { ChangeKind, StoreFactory, WatchedStore, WatchSpec } from "../cluster.ts";
import type { KubeObject } from "../kube-objects.ts";
import { errorText, type OperatorLogger } from "../operator-logger.ts";
import { HttpMethod, statusMessage, type KubeHttp } from "./kube-http.ts";

const RESTART_BASE_MS = 500;
const RESTART_MAX_MS = 30_000;
/** 429s retried before they are worth a warning (~15 s of backoff). */
const QUIET_RETRIES = 5;

export class KubeStoreFactory implements StoreFactory {
  readonly #config: KubeConfig;
  readonly #http: KubeHttp;
  readonly #logger: OperatorLogger;

  constructor(config: KubeConfig, http: KubeHttp, logger: OperatorLogger) {
    this.#config = config;
    this.#http = http;
    this.#logger = logger;
  }

  watch<T extends KubeObject>(spec: WatchSpec): WatchedStore<T> {
    return new KubeWatchedStore<T>(this.#config, this.#http, spec, this.#logger.child({ watch: spec.description }));
  }
}

class KubeWatchedStore<T extends KubeObject> implements WatchedStore<T> {
  readonly #spec: WatchSpec;
  readonly #http: KubeHttp;
  readonly #logger: OperatorLogger;
  readonly #informer: ListWatch<KubernetesObject>;
  readonly #listeners: ((object: T, kind: ChangeKind) => void)[] = [];
  #stopping = false;
  #started = false;
  #synced = false;
  #failures = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #firstList: { promise: Promise<void>; resolve: () => void };

  constructor(config: KubeConfig, http: KubeHttp, spec: WatchSpec, logger: OperatorLogger) {
    this.#spec = spec;
    this.#http = http;
    this.#logger = logger;
    let resolve: () => void = () => undefined;
    const promise = new Promise<void>((r) => (resolve = r));
    this.#firstList = { promise, resolve };
    this.#informer = new ListWatch<KubernetesObject>(spec.path, new Watch(config), () => this.#list(), false, spec.labelSelector);
    for (const kind of ["add", "update", "delete"] as const) {
      this.#informer.on(kind, (object) => this.#emit(object as T, kind));
    }
    this.#informer.on("error", (error: unknown) => this.#onError(error));
  }

  get synced(): boolean {
    return this.#synced;
  }

  get(namespace: string, name: string): T | undefined {
    return this.#informer.get(name, namespace) as T | undefined;
  }

  list(namespace?: string): readonly T[] {
    return this.#informer.list(namespace) as readonly T[];
  }

  onChange(listener: (object: T, kind: ChangeKind) => void): void {
    this.#listeners.push(listener);
  }

  async start(): Promise<void> {
    if (!this.#started) {
      this.#started = true;
      this.#stopping = false;
      void this.#informer.start().catch((error: unknown) => this.#onError(error));
    }
    await this.#firstList.promise;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    await this.#informer.stop();
  }

  async #list(): Promise<KubernetesListObject<KubernetesObject>> {
    const response = await this.#http.request(HttpMethod.GET, this.#spec.path, { query: { labelSelector: this.#spec.labelSelector } });
    if (response.status !== 200) {
      const error = new Error(`listing ${this.#spec.description}: HTTP ${response.status}: ${statusMessage(response.body)}`) as Error & { statusCode: number };
      error.statusCode = response.status;
      throw error;
    }
    const list = response.body as KubernetesListObject<KubernetesObject>;
    list.items ??= [];
    for (const item of list.items) stripManagedFields(item);
    this.#failures = 0;
    // Synced once ListWatch has filled its cache from this list, which it does after we return.
    setImmediate(() => {
      if (!this.#synced) this.#logger.debug({ items: list.items.length }, "first list done");
      this.#synced = true;
      this.#firstList.resolve();
    });
    return list;
  }

  #emit(object: T, kind: ChangeKind): void {
    this.#failures = 0;
    stripManagedFields(object as KubernetesObject); // the cached object itself: nothing here reads them
    for (const listener of this.#listeners) {
      try {
        listener(object, kind);
      } catch (error) {
        this.#logger.error({ err: errorText(error) }, "a change listener threw");
      }
    }
  }

  #onError(error: unknown): void {
    if (this.#stopping) return; // our own stop() aborted the watch
    clearTimeout(this.#restartTimer);
    const delay = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** this.#failures);
    this.#failures++;
    // 429 is the API server asking to be asked again (a CRD's storage still initialising
    // right after it was created, or priority and fairness): client-go retries it quietly.
    const retryRequested = (error as { statusCode?: unknown } | undefined)?.statusCode === 429;
    if (retryRequested && this.#failures <= QUIET_RETRIES) this.#logger.debug({ err: errorText(error), retryInMs: delay }, "the API server asked to retry the list");
    else this.#logger.warn({ err: errorText(error), retryInMs: delay }, "watch failed; restarting it");
    this.#restartTimer = setTimeout(() => {
      if (this.#stopping) return;
      void this.#informer.start().catch((startError: unknown) => this.#onError(startError));
    }, delay);
    this.#restartTimer.unref();
  }
}

/** managedFields are often most of an object's size (controller-runtime strips them from its caches too). */
function stripManagedFields(object: KubernetesObject): void {
  if (object.metadata !== undefined) delete object.metadata.managedFields;
}
