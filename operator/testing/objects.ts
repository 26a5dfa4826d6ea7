// Kubernetes objects as the API server returns them, for unit tests.
import type { McpPolicyObject, Pod, Service } from "../kube-objects.ts";
import { APPLIED_REVISION_ANNOTATION, INJECTED_LABEL, UPSTREAM_PORT_ANNOTATION } from "../well-known.ts";

let counter = 0;

export function policyObject(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
  options: { generation?: number; created?: string; uid?: string; status?: McpPolicyObject["status"] } = {},
): McpPolicyObject {
  return {
    apiVersion: "mcpwarden.dev/v1alpha1",
    kind: "McpPolicy",
    metadata: {
      name,
      namespace,
      uid: options.uid ?? `uid-${name}`,
      generation: options.generation ?? 1,
      creationTimestamp: options.created ?? "2026-01-01T00:00:00Z",
      resourceVersion: String(++counter),
    },
    spec: { mode: "enforce", default: "deny", ...spec },
    ...(options.status === undefined ? {} : { status: options.status }),
  };
}

export function podObject(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  options: { injected?: boolean; applied?: string; ip?: string; uid?: string; upstreamPort?: string; phase?: string } = {},
): Pod {
  const annotations: Record<string, string> = {};
  if (options.applied !== undefined) annotations[APPLIED_REVISION_ANNOTATION] = options.applied;
  annotations[UPSTREAM_PORT_ANNOTATION] = options.upstreamPort ?? "8080";
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace,
      uid: options.uid ?? `uid-${name}`,
      resourceVersion: String(++counter),
      labels: { ...labels, ...(options.injected === false ? {} : { [INJECTED_LABEL]: "true" }) },
      annotations,
    },
    spec: { containers: [{ name: "server", image: "mcp-server", ports: [{ name: "http", containerPort: 8080 }] }] },
    status: { phase: options.phase ?? "Running", podIP: options.ip ?? "10.0.0.1", podIPs: [{ ip: options.ip ?? "10.0.0.1" }] },
  };
}

export function serviceObject(namespace: string, name: string, selector: Record<string, string>, targetPort: number | string): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, uid: `uid-svc-${name}`, resourceVersion: String(++counter) },
    spec: { selector, ports: [{ name: "mcp", port: 80, targetPort }] },
  };
}
