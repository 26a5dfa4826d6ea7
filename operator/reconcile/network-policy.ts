// The NetworkPolicy an McpPolicy with `networkPolicy: enabled` owns: ingress to the
// selected pods only on the sidecar's named ports. Named ports resolve per pod, so a
// selected pod without the sidecar admits nothing rather than its MCP server's port.
import type { LabelSelector } from "../../policy/index.ts";
import type { McpPolicyObject, NetworkPolicy } from "../kube-objects.ts";
import { ADMIN_PORT_NAME, MANAGED_BY_LABEL, MANAGED_BY_VALUE, POLICY_LABEL, SIDECAR_PORT_NAME } from "../well-known.ts";

export function networkPolicyName(policyName: string): string {
  return `mcpwarden-${policyName}`.slice(0, 253);
}

export function desiredNetworkPolicy(policy: McpPolicyObject, selector: LabelSelector): NetworkPolicy {
  const name = policy.metadata?.name ?? "";
  const labels: Record<string, string> = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
  if (name.length <= 63) labels[POLICY_LABEL] = name;
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: {
      name: networkPolicyName(name),
      namespace: policy.metadata?.namespace ?? "",
      labels,
      ownerReferences: [{ apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpPolicy", name, uid: policy.metadata?.uid ?? "", controller: true }],
    },
    spec: {
      podSelector: selector,
      policyTypes: ["Ingress"],
      ingress: [
        {
          ports: [
            { protocol: "TCP", port: SIDECAR_PORT_NAME },
            { protocol: "TCP", port: ADMIN_PORT_NAME },
          ],
        },
      ],
    },
  };
}

/** Whether the cached object already has what apply would set. */
export function networkPolicyUpToDate(existing: NetworkPolicy | undefined, desired: NetworkPolicy): boolean {
  if (existing === undefined) return false;
  const owner = (object: NetworkPolicy): string => JSON.stringify((object.metadata?.ownerReferences ?? []).map((ref) => [ref.uid, ref.controller === true]));
  const labelsHeld = Object.entries(desired.metadata?.labels ?? {}).every(([key, value]) => existing.metadata?.labels?.[key] === value);
  return labelsHeld && owner(existing) === owner(desired) && canonical(existing.spec) === canonical(desired.spec);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}
