// The shapes of the Kubernetes objects the operator reads and writes: only the fields
// it uses. operator/k8s/ is the one module that talks to @kubernetes/client-node;
// everything else sees these plain JSON shapes.

import type { ApprovalPhase, ApprovalRequestBody, DecisionVerdict } from "../protocol/index.ts";

interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

export interface Container {
  name: string;
  image?: string;
  ports?: ContainerPort[];
  restartPolicy?: string;
  [field: string]: unknown;
}

export interface Pod extends KubeObject {
  spec?: {
    containers?: Container[];
    initContainers?: Container[];
    serviceAccountName?: string;
    hostNetwork?: boolean;
    volumes?: Record<string, unknown>[];
    [field: string]: unknown;
  };
  status?: {
    phase?: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    [field: string]: unknown;
  };
}

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

export interface Service extends KubeObject {
  spec?: {
    selector?: Record<string, string>;
    ports?: ServicePort[];
    [field: string]: unknown;
  };
}

export interface NetworkPolicy extends KubeObject {
  spec?: Record<string, unknown>;
}

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

interface PolicyTargets {
  pods: number;
  inSync: number;
  unprotected: number;
}

/** One tool in status.toolDefinitions: its pin and the definitions the selected pods see. */
export interface ToolDefinitionStatus {
  name: string;
  /** The pin in spec.toolDefinitions.pins; absent when the tool has none. */
  pinned?: string;
  /** A pod sees a definition other than the pinned one (or the tool has no pin). */
  changed: boolean;
  /** Each definition seen, with how many selected pods last saw it; most pods first. */
  seen: { digest: string; pods: number }[];
  /** Definitions seen but left out of `seen`. */
  omittedDigests?: number;
}

export interface ToolDefinitionsStatus {
  /** Changed tools first, then by name; pinned tools no pod has listed are included. */
  tools: ToolDefinitionStatus[];
  /** Tools left out of `tools`. */
  omittedTools?: number;
}

export interface McpPolicyStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  targets?: PolicyTargets;
  /** Only on policies with spec.toolDefinitions. */
  toolDefinitions?: ToolDefinitionsStatus;
}

/** An McpPolicy as the API server returns it; `spec` is read by policy/ (readMcpPolicy). */
export interface McpPolicyObject extends KubeObject {
  spec?: unknown;
  status?: McpPolicyStatus;
}

/** What an McpApproval asks (crds/mcpwarden.dev_mcpapprovals.yaml); immutable once created. */
/** The sidecar's ask (its rule may be absent: "" on the wire), the pod it came from, and the decision. */
interface McpApprovalSpec extends Omit<ApprovalRequestBody, "rule"> {
  pod: string;
  rule?: string;
  decision?: { verdict: DecisionVerdict; reason?: string; decidedBy?: string };
}

export type McpApprovalPhase = ApprovalPhase;

export interface McpApprovalStatus {
  phase?: McpApprovalPhase;
  decidedBy?: string;
  decidedAt?: string;
}

export interface McpApprovalObject extends KubeObject {
  spec?: McpApprovalSpec;
  status?: McpApprovalStatus;
}

export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

/** "namespace/name", the work queue's key and the stores' index. */
export function objectKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ""}/${name ?? ""}`;
}

export function keyOf(object: KubeObject): string {
  return objectKey(object.metadata?.namespace, object.metadata?.name);
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf("/");
  return slash < 0 ? { namespace: "", name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** metav1.MicroTime: RFC 3339 with microseconds (Lease times, events.k8s.io eventTime). */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
