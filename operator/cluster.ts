// The operator's view of the cluster: small interfaces of our own, implemented by
// operator/k8s/ against the API server and by in-memory fakes in tests.

import type { KubeObject, Lease, McpApprovalObject, McpApprovalStatus, McpPolicyStatus, NetworkPolicy, Pod } from "./kube-objects.ts";

export type ChangeKind = "add" | "update" | "delete";

/** A local cache of one kind of object, kept current by a watch. */
export interface ObjectStore<T extends KubeObject> {
  get(namespace: string, name: string): T | undefined;
  /** Every cached object, or those of one namespace. */
  list(namespace?: string): readonly T[];
}

export interface WatchedStore<T extends KubeObject> extends ObjectStore<T> {
  /** Called after the cache changed; `delete` passes the last known object. */
  onChange(listener: (object: T, kind: ChangeKind) => void): void;
  /** Lists, then watches; resolves after the first list (or rejects with its error). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Whether the first list has completed. */
  readonly synced: boolean;
}

export interface WatchSpec {
  /** e.g. `/api/v1/pods`, `/api/v1/namespaces/x/services`, `/apis/mcpwarden.dev/v1alpha1/mcppolicies`. */
  path: string;
  labelSelector?: string;
  /** For logs and errors. */
  description: string;
}

export interface StoreFactory {
  watch<T extends KubeObject>(spec: WatchSpec): WatchedStore<T>;
}

export interface TokenReviewResult {
  authenticated: boolean;
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  audiences?: string[];
  error?: string;
}

/** An events.k8s.io/v1 Event about one object. */
export interface EventRecord {
  regarding: { apiVersion: string; kind: string; namespace: string; name: string; uid?: string };
  type: "Normal" | "Warning";
  reason: string;
  action: string;
  note: string;
}

/** A write that failed with an HTTP status from the API server. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** Everything the operator writes or asks outside its caches. */
export interface ClusterClient {
  /** Merge patch through the status subresource. */
  patchPolicyStatus(namespace: string, name: string, status: McpPolicyStatus): Promise<void>;
  /** Merge patch of metadata.annotations of the pod with this uid (a pod replaced under the same name is left alone). */
  annotatePod(namespace: string, name: string, uid: string, annotations: Record<string, string>): Promise<void>;
  readPod(namespace: string, name: string): Promise<Pod | undefined>;
  /** Server-side apply with the operator's field manager (force: the operator owns these objects). */
  applyNetworkPolicy(policy: NetworkPolicy): Promise<void>;
  /** Deletes only the object with this uid (a precondition), ignoring one already gone. */
  deleteNetworkPolicy(namespace: string, name: string, uid: string): Promise<void>;
  createEvent(event: EventRecord, reportingInstance: string): Promise<void>;
  reviewToken(token: string, audiences: string[]): Promise<TokenReviewResult>;
  /** Creates an McpApproval (metadata.generateName picks its name); returns it as stored. */
  createApproval(approval: McpApprovalObject): Promise<McpApprovalObject>;
  /** Merge patch through the status subresource. */
  patchApprovalStatus(namespace: string, name: string, status: McpApprovalStatus): Promise<void>;
  /** Deletes only the object with this uid, ignoring one already gone. */
  deleteApproval(namespace: string, name: string, uid: string): Promise<void>;
  readLease(namespace: string, name: string): Promise<Lease | undefined>;
  createLease(lease: Lease): Promise<Lease>;
  /** Replaces the Lease; fails with 409 when its resourceVersion is stale. */
  replaceLease(lease: Lease): Promise<Lease>;
}
