// ClusterClient against the API server. Every write names its patch type: merge patch
// for status and annotations, server-side apply (with the operator's field manager)
// for objects the operator owns.
import { PatchStrategy } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { ApiError, type ClusterClient, type EventRecord, type TokenReviewResult } from "../cluster.ts";
import { microTime, type Lease, type McpApprovalObject, type McpApprovalStatus, type McpPolicyStatus, type NetworkPolicy, type Pod } from "../kube-objects.ts";
import { HttpMethod, type KubeHttp } from "./kube-http.ts";

const enc = encodeURIComponent;

export class KubeClusterClient implements ClusterClient {
  readonly #http: KubeHttp;
  readonly #fieldManager: string;

  constructor(http: KubeHttp, fieldManager: string) {
    this.#http = http;
    this.#fieldManager = fieldManager;
  }

  async patchPolicyStatus(namespace: string, name: string, status: McpPolicyStatus): Promise<void> {
    await this.#http.expectOk(HttpMethod.PATCH, `/apis/mcpwarden.dev/v1alpha1/namespaces/${enc(namespace)}/mcppolicies/${enc(name)}/status`, {
      body: { status },
      contentType: PatchStrategy.MergePatch,
      query: { fieldManager: this.#fieldManager },
    });
  }

  async annotatePod(namespace: string, name: string, uid: string, annotations: Record<string, string>): Promise<void> {
    await this.#http.expectOk(HttpMethod.PATCH, `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`, {
      body: { metadata: { uid, annotations } }, // uid: a precondition, 409 on another pod
      contentType: PatchStrategy.MergePatch,
      query: { fieldManager: this.#fieldManager },
    });
  }

  async readPod(namespace: string, name: string): Promise<Pod | undefined> {
    const response = await this.#http.request(HttpMethod.GET, `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw new ApiError(response.status, `reading pod ${namespace}/${name}: HTTP ${response.status}`);
    return response.body as Pod;
  }

  async applyNetworkPolicy(policy: NetworkPolicy): Promise<void> {
    const { namespace = "", name = "" } = policy.metadata ?? {};
    await this.#http.expectOk(HttpMethod.PATCH, `/apis/networking.k8s.io/v1/namespaces/${enc(namespace)}/networkpolicies/${enc(name)}`, {
      body: policy, // JSON is YAML
      contentType: PatchStrategy.ServerSideApply,
      query: { fieldManager: this.#fieldManager, force: "true" },
    });
  }

  async deleteNetworkPolicy(namespace: string, name: string, uid: string): Promise<void> {
    await this.#deleteWithUid(`/apis/networking.k8s.io/v1/namespaces/${enc(namespace)}/networkpolicies/${enc(name)}`, uid, `NetworkPolicy ${namespace}/${name}`);
  }

  async createApproval(approval: McpApprovalObject): Promise<McpApprovalObject> {
    const namespace = approval.metadata?.namespace ?? "";
    return (await this.#http.expectOk(HttpMethod.POST, `${approvalsPath(namespace)}`, {
      body: { apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpApproval", ...approval },
      query: { fieldManager: this.#fieldManager },
    })) as McpApprovalObject;
  }

  async patchApprovalStatus(namespace: string, name: string, status: McpApprovalStatus): Promise<void> {
    await this.#http.expectOk(HttpMethod.PATCH, `${approvalsPath(namespace)}/${enc(name)}/status`, {
      body: { status },
      contentType: PatchStrategy.MergePatch,
      query: { fieldManager: this.#fieldManager },
    });
  }

  async deleteApproval(namespace: string, name: string, uid: string): Promise<void> {
    await this.#deleteWithUid(`${approvalsPath(namespace)}/${enc(name)}`, uid, `McpApproval ${namespace}/${name}`);
  }

  async #deleteWithUid(path: string, uid: string, what: string): Promise<void> {
    const response = await this.#http.request(HttpMethod.DELETE, path, { body: { apiVersion: "v1", kind: "DeleteOptions", preconditions: { uid } } });
    // 404: already gone; 409: another object now has the name, not ours to delete.
    if (response.status === 404 || response.status === 409 || (response.status >= 200 && response.status < 300)) return;
    throw new ApiError(response.status, `deleting ${what}: HTTP ${response.status}`);
  }

  async createEvent(event: EventRecord, reportingInstance: string): Promise<void> {
    const { regarding } = event;
    const body = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: `${regarding.name}.${Date.now().toString(16)}${randomBytes(2).toString("hex")}`, namespace: regarding.namespace },
      eventTime: microTime(new Date()),
      reportingController: "mcpwarden.dev/operator",
      reportingInstance: reportingInstance.slice(0, 128),
      action: event.action,
      reason: event.reason,
      type: event.type,
      note: event.note.length > 1024 ? `${event.note.slice(0, 1021)}...` : event.note,
      regarding,
    };
    await this.#http.expectOk(HttpMethod.POST, `/apis/events.k8s.io/v1/namespaces/${enc(regarding.namespace)}/events`, { body });
  }

  async reviewToken(token: string, audiences: string[]): Promise<TokenReviewResult> {
    const body = (await this.#http.expectOk(HttpMethod.POST, "/apis/authentication.k8s.io/v1/tokenreviews", {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, audiences } },
    })) as { status?: { authenticated?: boolean; user?: Omit<TokenReviewResult, "authenticated" | "audiences" | "error">; audiences?: string[]; error?: string } };
    const status = body.status ?? {};
    return { authenticated: status.authenticated === true, ...status.user, audiences: status.audiences, error: status.error };
  }

  async readLease(namespace: string, name: string): Promise<Lease | undefined> {
    const response = await this.#http.request(HttpMethod.GET, leasePath(namespace, name));
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw new ApiError(response.status, `reading Lease ${namespace}/${name}: HTTP ${response.status}`);
    return response.body as Lease;
  }

  async createLease(lease: Lease): Promise<Lease> {
    const namespace = lease.metadata?.namespace ?? "";
    return (await this.#http.expectOk(HttpMethod.POST, `/apis/coordination.k8s.io/v1/namespaces/${enc(namespace)}/leases`, {
      body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", ...lease },
    })) as Lease;
  }

  async replaceLease(lease: Lease): Promise<Lease> {
    const { namespace = "", name = "" } = lease.metadata ?? {};
    return (await this.#http.expectOk(HttpMethod.PUT, leasePath(namespace, name), {
      body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", ...lease },
    })) as Lease;
  }
}

function approvalsPath(namespace: string): string {
  return `/apis/mcpwarden.dev/v1alpha1/namespaces/${enc(namespace)}/mcpapprovals`;
}

function leasePath(namespace: string, name: string): string {
  return `/apis/coordination.k8s.io/v1/namespaces/${enc(namespace)}/leases/${enc(name)}`;
}
