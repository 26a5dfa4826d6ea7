// In-memory stand-ins for the cluster, for unit tests: stores that hold what a test
// puts in them, and a client that records writes and keeps Leases.
import { ApiError, type ChangeKind, type ClusterClient, type EventRecord, type ObjectStore, type TokenReviewResult, type WatchedStore } from "../cluster.ts";
import type { KubeObject, Lease, McpApprovalObject, McpApprovalStatus, McpPolicyStatus, NetworkPolicy, Pod } from "../kube-objects.ts";

export class InMemoryStore<T extends KubeObject> implements WatchedStore<T>, ObjectStore<T> {
  readonly #objects = new Map<string, T>();
  readonly #listeners: ((object: T, kind: ChangeKind) => void)[] = [];
  synced = true;

  constructor(objects: T[] = []) {
    for (const object of objects) this.#objects.set(keyFor(object), object);
  }

  get(namespace: string, name: string): T | undefined {
    return this.#objects.get(`${namespace}/${name}`);
  }

  list(namespace?: string): readonly T[] {
    return [...this.#objects.values()].filter((object) => namespace === undefined || object.metadata?.namespace === namespace);
  }

  onChange(listener: (object: T, kind: ChangeKind) => void): void {
    this.#listeners.push(listener);
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  put(object: T): void {
    const kind = this.#objects.has(keyFor(object)) ? "update" : "add";
    this.#objects.set(keyFor(object), object);
    for (const listener of this.#listeners) listener(object, kind);
  }

  remove(object: T): void {
    this.#objects.delete(keyFor(object));
    for (const listener of this.#listeners) listener(object, "delete");
  }
}

function keyFor(object: KubeObject): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

export interface RecordedWrite {
  kind: "status" | "annotate" | "apply" | "delete" | "event" | "approval-create" | "approval-status" | "approval-delete";
  target: string;
  body: unknown;
}

export class InMemoryClusterClient implements ClusterClient {
  readonly writes: RecordedWrite[] = [];
  readonly leases = new Map<string, Lease>();
  pods = new Map<string, Pod>();
  reviews = new Map<string, TokenReviewResult>();
  reviewCalls = 0;
  failNext: Partial<Record<RecordedWrite["kind"] | "lease", number>> = {};
  #resourceVersion = 0;

  async patchPolicyStatus(namespace: string, name: string, status: McpPolicyStatus): Promise<void> {
    this.#maybeFail("status");
    this.writes.push({ kind: "status", target: `${namespace}/${name}`, body: structuredClone(status) });
  }

  async annotatePod(namespace: string, name: string, uid: string, annotations: Record<string, string>): Promise<void> {
    this.#maybeFail("annotate");
    this.writes.push({ kind: "annotate", target: `${namespace}/${name}`, body: { uid, annotations } });
  }

  async readPod(namespace: string, name: string): Promise<Pod | undefined> {
    return this.pods.get(`${namespace}/${name}`);
  }

  async applyNetworkPolicy(policy: NetworkPolicy): Promise<void> {
    this.#maybeFail("apply");
    this.writes.push({ kind: "apply", target: keyFor(policy), body: structuredClone(policy) });
  }

  async deleteNetworkPolicy(namespace: string, name: string, uid: string): Promise<void> {
    this.writes.push({ kind: "delete", target: `${namespace}/${name}`, body: { uid } });
  }

  async createApproval(approval: McpApprovalObject): Promise<McpApprovalObject> {
    this.#maybeFail("approval-create");
    const metadata = approval.metadata ?? {};
    const stored: McpApprovalObject = {
      ...structuredClone(approval),
      metadata: { ...metadata, name: metadata.name ?? `${metadata.generateName ?? ""}${(++this.#resourceVersion).toString(36).padStart(5, "0")}`, uid: `uid-${++this.#resourceVersion}` },
    };
    this.writes.push({ kind: "approval-create", target: keyFor(stored), body: structuredClone(stored) });
    return structuredClone(stored);
  }

  async patchApprovalStatus(namespace: string, name: string, status: McpApprovalStatus): Promise<void> {
    this.#maybeFail("approval-status");
    this.writes.push({ kind: "approval-status", target: `${namespace}/${name}`, body: structuredClone(status) });
  }

  async deleteApproval(namespace: string, name: string, uid: string): Promise<void> {
    this.writes.push({ kind: "approval-delete", target: `${namespace}/${name}`, body: { uid } });
  }

  async createEvent(event: EventRecord): Promise<void> {
    this.#maybeFail("event");
    this.writes.push({ kind: "event", target: `${event.regarding.namespace}/${event.regarding.name}`, body: structuredClone(event) });
  }

  async reviewToken(token: string): Promise<TokenReviewResult> {
    this.reviewCalls++;
    return this.reviews.get(token) ?? { authenticated: false, error: "unknown token" };
  }

  async readLease(namespace: string, name: string): Promise<Lease | undefined> {
    this.#maybeFail("lease");
    const lease = this.leases.get(`${namespace}/${name}`);
    return lease === undefined ? undefined : structuredClone(lease);
  }

  async createLease(lease: Lease): Promise<Lease> {
    this.#maybeFail("lease");
    const key = keyFor(lease);
    if (this.leases.has(key)) throw new ApiError(409, "exists");
    const stored = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++this.#resourceVersion) } };
    this.leases.set(key, stored);
    return structuredClone(stored);
  }

  async replaceLease(lease: Lease): Promise<Lease> {
    this.#maybeFail("lease");
    const key = keyFor(lease);
    const current = this.leases.get(key);
    if (current === undefined) throw new ApiError(404, "not found");
    if (current.metadata?.resourceVersion !== lease.metadata?.resourceVersion) throw new ApiError(409, "conflict");
    const stored = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++this.#resourceVersion) } };
    this.leases.set(key, stored);
    return structuredClone(stored);
  }

  writesOf(kind: RecordedWrite["kind"]): RecordedWrite[] {
    return this.writes.filter((write) => write.kind === kind);
  }

  #maybeFail(kind: RecordedWrite["kind"] | "lease"): void {
    const remaining = this.failNext[kind] ?? 0;
    if (remaining > 0) {
      this.failNext[kind] = remaining - 1;
      throw new ApiError(503, `injected ${kind} failure`);
    }
  }
}
