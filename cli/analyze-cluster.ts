// `kubectl mcpwarden analyze`: what is wrong with mcp-warden in a namespace or the
// cluster, and how to fix it, as `istioctl analyze` does for Istio. Pure: it reads the
// API objects kubectl listed (Namespaces, Pods, Services, McpPolicies) and nothing else —
// the operator's status, the Pods' annotations (the applied revision) — and computes
// each pod's bundle revision and identity the way the operator does (PolicyCatalog).
// Codes are stable: scripts and docs may match on them.
import type { ObjectStore } from "../operator/cluster.ts";
import type { Condition, KubeObject, McpPolicyObject, Pod, Service } from "../operator/kube-objects.ts";
import { ACCEPTED, AcceptedReason, PROGRAMMED } from "../operator/reconcile/conditions.ts";
import { selectorMatches } from "../operator/reconcile/label-selector.ts";
import { PolicyCatalog } from "../operator/reconcile/policy-catalog.ts";
import { podIsActive, podIsProtected, writtenSelector } from "../operator/reconcile/reconcile-policy.ts";
import { servicesTargetingUpstream } from "../operator/reconcile/service-findings.ts";
import { APPLIED_REVISION_ANNOTATION, INJECT_LABEL, UPSTREAM_PORT_ANNOTATION, UPSTREAM_TRANSPORT_ANNOTATION } from "../operator/well-known.ts";

type Severity = "Error" | "Warning";

const FINDINGS = {
  MW001: { name: "UpstreamPortMissing", severity: "Error" },
  MW002: { name: "InjectedPodWithoutPolicy", severity: "Error" },
  MW003: { name: "ServiceTargetsUpstreamPort", severity: "Error" },
  MW004: { name: "PolicyNotAccepted", severity: "Error" },
  MW005: { name: "PolicyNotProgrammed", severity: "Warning" },
  MW006: { name: "SidecarOutOfSync", severity: "Warning" },
  MW007: { name: "IdentityConflict", severity: "Error" },
  MW008: { name: "CounterConflict", severity: "Error" },
  MW009: { name: "SharedGrantBudget", severity: "Warning" },
} as const satisfies Record<string, { name: string; severity: Severity }>;

type FindingCode = keyof typeof FINDINGS;

export interface Finding {
  code: FindingCode;
  name: string;
  severity: Severity;
  object: { kind: string; namespace: string; name: string };
  message: string;
  fix: string;
}

export interface ListedObjects {
  /** The namespaces analyzed (their labels say whether injection is on). */
  namespaces: readonly KubeObject[];
  pods: readonly Pod[];
  services: readonly Service[];
  policies: readonly McpPolicyObject[];
}

/** What a listed set of objects looks like to the operator's PolicyCatalog. */
class ListedStore<T extends KubeObject> implements ObjectStore<T> {
  readonly #objects: readonly T[];
  constructor(objects: readonly T[]) {
    this.#objects = objects;
  }
  get(namespace: string, name: string): T | undefined {
    return this.#objects.find((object) => object.metadata?.namespace === namespace && object.metadata?.name === name);
  }
  list(namespace?: string): readonly T[] {
    return namespace === undefined ? this.#objects : this.#objects.filter((object) => object.metadata?.namespace === namespace);
  }
}

const nameOf = (object: KubeObject): string => object.metadata?.name ?? "";
const namespaceOf = (object: KubeObject): string => object.metadata?.namespace ?? "";
const conditionOf = (policy: McpPolicyObject, type: string): Condition | undefined => policy.status?.conditions?.find((condition) => condition.type === type);

export function analyzeCluster(objects: ListedObjects): Finding[] {
  const findings: Finding[] = [];
  const add = (code: FindingCode, object: KubeObject & { kind?: string }, kind: string, message: string, fix: string): void =>
    void findings.push({ code, ...FINDINGS[code], object: { kind, namespace: namespaceOf(object), name: nameOf(object) }, message, fix });

  const catalog = new PolicyCatalog(new ListedStore(objects.policies));
  const injectionOn = new Set(objects.namespaces.filter((namespace) => namespace.metadata?.labels?.[INJECT_LABEL] === "enabled").map(nameOf));
  const activePods = objects.pods.filter(podIsActive);
  const namespaces = [...new Set([...activePods, ...objects.services, ...objects.policies].map(namespaceOf))].sort();

  for (const pod of activePods) {
    const labels = pod.metadata?.labels;
    const wanted = labels?.[INJECT_LABEL] === "true" || (injectionOn.has(namespaceOf(pod)) && labels?.[INJECT_LABEL] !== "false");
    const annotations = pod.metadata?.annotations ?? {};
    if (wanted && !podIsProtected(pod) && annotations[UPSTREAM_PORT_ANNOTATION] === undefined && annotations[UPSTREAM_TRANSPORT_ANNOTATION] !== "stdio") {
      add(
        "MW001",
        pod,
        "Pod",
        `runs without the mcp-warden sidecar: injection is on for it, but it has no ${UPSTREAM_PORT_ANNOTATION} annotation (it was created before injection was turned on, or while the webhook let pods through)`,
        `add the annotation ${UPSTREAM_PORT_ANNOTATION}: "<the MCP server's port number or name>" (or ${UPSTREAM_TRANSPORT_ANNOTATION}: stdio for a server that speaks stdio) to its pod template and recreate the pod (or label it ${INJECT_LABEL}=false to leave it out on purpose)`,
      );
    }
  }

  for (const namespace of namespaces) {
    const pods = activePods.filter((pod) => namespaceOf(pod) === namespace);
    const injected = pods.filter(podIsProtected);
    const policies = objects.policies.filter((policy) => namespaceOf(policy) === namespace);

    for (const pod of injected) {
      const labels = pod.metadata?.labels;
      const selecting = policies.filter((policy) => selectorMatches(catalog.evaluation(namespace, nameOf(policy))?.enforced?.spec.selector ?? writtenSelector(policy), labels));
      if (selecting.length === 0) {
        add(
          "MW002",
          pod,
          "Pod",
          "carries the mcp-warden sidecar but no McpPolicy selects it: its sidecar has an empty bundle and every call passes unchecked",
          `apply an McpPolicy in ${namespace} whose spec.selector matches the pod's labels${labels === undefined ? "" : ` (${Object.entries(labels).map(([key, value]) => `${key}=${value}`).join(", ")})`}`,
        );
        continue;
      }
      const bundle = catalog.bundleFor(namespace, labels);
      const applied = pod.metadata?.annotations?.[APPLIED_REVISION_ANNOTATION];
      if (applied !== bundle.revision) {
        add(
          "MW006",
          pod,
          "Pod",
          `its sidecar ${applied === undefined ? "has applied no revision" : `applied revision ${applied}`}; its policies' current revision is ${bundle.revision} (the sidecar is not connected to the operator, or is still applying)`,
          `check the sidecar's logs (kubectl logs -n ${namespace} ${nameOf(pod)} -c mcp-warden) and that the operator runs; a sidecar that cannot reach the operator keeps enforcing its last bundle`,
        );
      }
      for (const conflict of bundle.identityConflicts) {
        add(
          "MW007",
          pod,
          "Pod",
          `McpPolicies ${conflict.policy} and ${conflict.conflictsWith} both select it with different identities: ${conflict.message}`,
          `give every policy selecting these pods the same spec.identity, or drop it from the newer one (${conflict.policy}) so the older one decides`,
        );
      }
    }

    for (const finding of servicesTargetingUpstream(objects.services.filter((service) => namespaceOf(service) === namespace), injected)) {
      add(
        "MW003",
        finding.service,
        "Service",
        `port ${finding.port} targets ${finding.targetPort}, the MCP server's own port on ${finding.pod}: traffic through it bypasses the mcp-warden sidecar`,
        "set the port's targetPort: mcp-warden (the sidecar's port, 9000)",
      );
    }

    for (const policy of policies) {
      const evaluation = catalog.evaluation(namespace, nameOf(policy));
      if (evaluation?.reason === AcceptedReason.CounterConflict) {
        add("MW008", policy, "McpPolicy", `not accepted: ${evaluation.message}`, "give the counter the same window, max and scope everywhere in the namespace, or another name");
      }
      const accepted = conditionOf(policy, ACCEPTED);
      const programmed = conditionOf(policy, PROGRAMMED);
      if (policy.status === undefined || accepted === undefined) {
        add("MW004", policy, "McpPolicy", "has no status: no mcp-warden operator has looked at it", "check that the operator runs (kubectl get pods -n <its namespace> -l app.kubernetes.io/name=mcp-warden) and its logs");
        continue;
      }
      if (accepted.status !== "True" && accepted.reason !== AcceptedReason.CounterConflict) {
        add("MW004", policy, "McpPolicy", `Accepted=${accepted.status}, reason ${accepted.reason}: ${accepted.message}`, "fix the fields the message names; mcp-warden policy validate FILE lists every problem before you apply");
      } else if (programmed !== undefined && programmed.status !== "True" && accepted.status === "True") {
        add("MW005", policy, "McpPolicy", `Programmed=${programmed.status}, reason ${programmed.reason}: ${programmed.message}`, programmedFix(programmed.reason));
      }
      if (evaluation?.enforced !== undefined && evaluation.accepted) {
        const selected = pods.filter((pod) => selectorMatches(evaluation.enforced?.spec.selector, pod.metadata?.labels)).map((pod) => pod.metadata?.labels);
        const shared = catalog.sharedGrantBudget(namespace, evaluation.enforced, selected);
        if (shared !== undefined) {
          add("MW009", policy, "McpPolicy", shared, "add spec.identity (e.g. {source: header, header: x-agent-id} behind a gateway that sets it, or source: jwt), or write scope: global on the limits");
        }
      }
    }
  }
  return findings;
}

function programmedFix(reason: string): string {
  if (reason === "Unprotected") return "label the namespace mcpwarden.dev/inject=enabled (or the pods mcpwarden.dev/inject=true) and recreate the pods the message names";
  if (reason === "IdentityConflict") return "give every policy selecting these pods the same spec.identity";
  if (reason === "Pending") return "wait a moment; if it stays, the sidecars named are not connected to the operator (see their logs)";
  return "see the message";
}
