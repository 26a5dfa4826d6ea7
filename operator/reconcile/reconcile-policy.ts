// Reconciles one McpPolicy (leader only): reads the caches, computes the status, the
// owned NetworkPolicy and the events it should have, and writes only what differs,
// status last. A thrown error makes the work queue retry the key with backoff.
import type { IdentityConflict, LabelSelector, McpPolicy } from "../../policy/index.ts";
import type { ClusterClient, EventRecord, ObjectStore } from "../cluster.ts";
import { splitKey, type McpPolicyObject, type NetworkPolicy, type Pod, type Service, type ToolDefinitionsStatus } from "../kube-objects.ts";
import type { OperatorMetrics } from "../metrics/operator-metrics.ts";
import { readDefinitionAnnotation } from "../stream/definition-reports.ts";
import { APPLIED_REVISION_ANNOTATION, INJECTED_LABEL, POLICY_LABEL, TOOL_DEFINITIONS_ANNOTATION } from "../well-known.ts";
import { ACCEPTED, EventReason, PROGRAMMED } from "./conditions.ts";
import type { EventRecorder } from "./event-recorder.ts";
import { selectorMatches } from "./label-selector.ts";
import { desiredNetworkPolicy, networkPolicyName, networkPolicyUpToDate } from "./network-policy.ts";
import type { PolicyCatalog } from "./policy-catalog.ts";
import { desiredPolicyStatus, statusEquals, type SelectedPod } from "./policy-status.ts";
import { servicesTargetingUpstream } from "./service-findings.ts";
import { changedPins, toolDefinitionsStatus, type PodDefinitions } from "./tool-definition-status.ts";

export interface ReconcileContext {
  readonly policies: ObjectStore<McpPolicyObject>;
  readonly pods: ObjectStore<Pod>;
  readonly services: ObjectStore<Service>;
  readonly networkPolicies: ObjectStore<NetworkPolicy>;
  /** Whether the namespace's pods and services have been listed. */
  readonly namespaceSynced: (namespace: string) => boolean;
  readonly catalog: PolicyCatalog;
  readonly client: ClusterClient;
  readonly events: EventRecorder;
  readonly metrics: OperatorMetrics;
  readonly now: () => Date;
  /** Milliseconds to wait before this policy's status may be written again (0: now). */
  readonly statusWriteDelay?: (key: string) => number;
  readonly onStatusWritten?: (key: string) => void;
}

export type ReconcileOutcome = { done: true; selectedPods: readonly string[] } | { done: false; retryInMs: number; why: string };

/** Pods that count: not finished, not being deleted. */
export function podIsActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return pod.metadata?.deletionTimestamp === undefined && phase !== "Succeeded" && phase !== "Failed";
}

export function podIsProtected(pod: Pod): boolean {
  return pod.metadata?.labels?.[INJECTED_LABEL] === "true";
}

export async function reconcilePolicy(key: string, context: ReconcileContext): Promise<ReconcileOutcome> {
  const { namespace, name } = splitKey(key);
  const object = context.policies.get(namespace, name);
  if (object === undefined) {
    context.metrics.forgetPolicy(namespace, name);
    context.events.forget(`${namespace}/${name}/`);
    await removeOrphanNetworkPolicy(namespace, name, context);
    return { done: true, selectedPods: [] };
  }
  if (!context.namespaceSynced(namespace)) return { done: false, retryInMs: 200, why: `pods and services of ${namespace} are not listed yet` };
  // At most one status write per interval: until it ends, nothing could be written, so the
  // pods are not walked for nothing (every ack of a burst requeues the policy).
  const wait = context.statusWriteDelay?.(key) ?? 0;
  if (wait > 0) return { done: false, retryInMs: wait, why: "status was written a moment ago" };

  const evaluation = context.catalog.evaluation(namespace, name);
  if (evaluation === undefined) return { done: false, retryInMs: 200, why: "the policy is not in the catalog yet" };
  const generation = object.metadata?.generation ?? 0;
  const uid = object.metadata?.uid ?? "";
  const eventKey = `${namespace}/${name}/${uid}/${generation}`;
  const regarding = { apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpPolicy", namespace, name, uid };

  // Which pods: the enforced version's selector, else (never accepted) the one written.
  const selector = evaluation.enforced?.spec.selector ?? writtenSelector(object);
  const pods = context.pods.list(namespace).filter((pod) => podIsActive(pod) && selectorMatches(selector, pod.metadata?.labels));
  let identityConflict: IdentityConflict | undefined;
  const selected: SelectedPod[] = pods.map((pod) => {
    const bundle = context.catalog.bundleFor(namespace, pod.metadata?.labels);
    identityConflict ??= bundle.identityConflicts.find((conflict) => conflict.policy === `${namespace}/${name}`);
    const applied = pod.metadata?.annotations?.[APPLIED_REVISION_ANNOTATION];
    return {
      name: pod.metadata?.name ?? "",
      protected: podIsProtected(pod),
      inSync: podIsProtected(pod) && applied === bundle.revision,
      appliedRevision: applied,
      currentRevision: bundle.revision,
    };
  });

  if (!evaluation.accepted) {
    await context.events.record(`${eventKey}/accepted/${evaluation.message}`, {
      regarding,
      type: "Warning",
      reason: evaluation.reason === "CounterConflict" ? EventReason.CounterConflict : EventReason.InvalidPolicy,
      action: "Validate",
      note: evaluation.message,
    });
  }
  const sharedBudget = evaluation.enforced === undefined ? undefined : context.catalog.sharedGrantBudget(namespace, evaluation.enforced, pods.map((pod) => pod.metadata?.labels));
  if (sharedBudget !== undefined) {
    await context.events.record(`${eventKey}/shared-budget`, { regarding, type: "Warning", reason: EventReason.NoIdentitySource, action: "Validate", note: sharedBudget });
  }
  if (identityConflict !== undefined) {
    await context.events.record(`${eventKey}/identity/${identityConflict.conflictsWith}`, {
      regarding,
      type: "Warning",
      reason: EventReason.IdentityConflict,
      action: "Combine",
      note: identityConflict.message,
    });
  }
  const protectedPods = pods.filter(podIsProtected);
  for (const finding of servicesTargetingUpstream(context.services.list(namespace), protectedPods)) {
    const service = finding.service.metadata ?? {};
    const note =
      `Service ${namespace}/${service.name ?? ""} port ${finding.port} targets port ${finding.targetPort}, the MCP server's own port on ` +
      `${finding.pod}, which McpPolicy ${name} protects: traffic through it bypasses the mcp-warden sidecar; set targetPort: mcp-warden`;
    const findingKey = `${service.uid ?? ""}/${finding.port}/${finding.targetPort}`;
    await context.events.record(`service/${findingKey}`, {
      regarding: { apiVersion: "v1", kind: "Service", namespace, name: service.name ?? "", uid: service.uid },
      type: "Warning",
      reason: EventReason.TargetsUpstreamPort,
      action: "Inspect",
      note,
    });
    await context.events.record(`${namespace}/${name}/service/${findingKey}`, { regarding, type: "Warning", reason: EventReason.TargetsUpstreamPort, action: "Inspect", note });
  }

  await reconcileNetworkPolicy(object, evaluation.enforced?.spec.networkPolicy === "enabled" ? selector : undefined, context);
  const toolDefinitions = await reconcileToolDefinitions(evaluation.enforced, pods.filter(podIsProtected), { regarding, context });

  const desired = desiredPolicyStatus({ generation, current: object.status, evaluation, pods: selected, identityConflict, sharedGrantBudget: sharedBudget, toolDefinitions, now: context.now() });
  if (!statusEquals(object.status, desired)) {
    await context.client.patchPolicyStatus(namespace, name, desired);
    context.onStatusWritten?.(key);
  }
  for (const condition of desired.conditions ?? []) {
    if (condition.type === ACCEPTED || condition.type === PROGRAMMED) {
      context.metrics.policyCondition.set({ namespace, policy: name, type: condition.type }, condition.status === "True" ? 1 : 0);
    }
  }
  return { done: true, selectedPods: selected.map((pod) => pod.name) };
}

/**
 * status.toolDefinitions from the selected pods' reports, for a policy with
 * spec.toolDefinitions; a Warning Event, once, for each definition a pod lists in place
 * of a pinned one, and for the tools listed without a pin (modes pin and audit).
 */
async function reconcileToolDefinitions(
  policy: McpPolicy | undefined,
  pods: readonly Pod[],
  { regarding, context }: { regarding: EventRecord["regarding"]; context: ReconcileContext },
): Promise<ToolDefinitionsStatus | undefined> {
  const spec = policy?.spec.toolDefinitions;
  if (policy === undefined || spec === undefined) return undefined;
  const reports = pods
    .map((pod) => readDefinitionAnnotation(pod.metadata?.annotations?.[TOOL_DEFINITIONS_ANNOTATION]))
    .filter((report): report is PodDefinitions => report !== undefined);
  const status = toolDefinitionsStatus(spec, reports);
  if ((spec.mode ?? "off") === "off") return status;
  const ref = `${regarding.namespace}/${regarding.name}`;
  for (const change of changedPins(status)) {
    await context.events.record(`${ref}/${regarding.uid ?? ""}/definition/${change.tool}/${change.pinned}/${change.digest}`, {
      regarding,
      type: "Warning",
      reason: EventReason.ToolDefinitionChanged,
      action: "Compare",
      note:
        `tool ${JSON.stringify(change.tool)}: ${change.pods === 1 ? "1 pod lists" : `${change.pods} pods list`} definition ${change.digest}, pinned ${change.pinned}; ` +
        `review the new definition, and if it is expected pin it: kubectl mcpwarden pin accept ${ref} ${change.tool} --digest ${change.digest}`,
    });
  }
  const unpinned = status.tools.filter((tool) => tool.pinned === undefined && tool.seen.length > 0).map((tool) => tool.name);
  if (unpinned.length > 0) {
    const listed = unpinned.slice(0, 10).map((name) => JSON.stringify(name)).join(", ");
    await context.events.record(`${ref}/${regarding.uid ?? ""}/unpinned/${unpinned.join("\n")}`, {
      regarding,
      type: "Warning",
      reason: EventReason.ToolDefinitionUnpinned,
      action: "Compare",
      note: `${unpinned.length === 1 ? "1 tool is" : `${unpinned.length} tools are`} listed without a pin (${listed}${unpinned.length > 10 ? ", ..." : ""}); ${spec.mode === "pin" ? "calls to them are refused; " : ""}pin them with kubectl mcpwarden pin accept ${ref} TOOL`,
    });
  }
  return status;
}

/** The selector as written, for a policy that was never accepted. */
export function writtenSelector(object: McpPolicyObject): LabelSelector | undefined {
  const spec = object.spec;
  if (typeof spec !== "object" || spec === null) return undefined;
  const selector = (spec as { selector?: unknown }).selector;
  return typeof selector === "object" && selector !== null ? (selector as LabelSelector) : undefined;
}

async function reconcileNetworkPolicy(object: McpPolicyObject, selector: LabelSelector | undefined, context: ReconcileContext): Promise<void> {
  const namespace = object.metadata?.namespace ?? "";
  const name = object.metadata?.name ?? "";
  const existing = context.networkPolicies.get(namespace, networkPolicyName(name));
  if (selector === undefined) {
    const owned = existing?.metadata?.ownerReferences?.some((ref) => ref.uid === object.metadata?.uid);
    if (existing !== undefined && owned === true) await context.client.deleteNetworkPolicy(namespace, networkPolicyName(name), existing.metadata?.uid ?? "");
    return;
  }
  const desired = desiredNetworkPolicy(object, selector);
  if (!networkPolicyUpToDate(existing, desired)) await context.client.applyNetworkPolicy(desired);
}

/** The policy is gone: its NetworkPolicy goes too (garbage collection would, given time). */
async function removeOrphanNetworkPolicy(namespace: string, name: string, context: ReconcileContext): Promise<void> {
  const existing = context.networkPolicies.get(namespace, networkPolicyName(name));
  if (existing === undefined || existing.metadata?.labels?.[POLICY_LABEL] !== name) return;
  const owners = existing.metadata.ownerReferences ?? [];
  if (owners.some((ref) => ref.kind === "McpPolicy")) await context.client.deleteNetworkPolicy(namespace, existing.metadata.name ?? "", existing.metadata.uid ?? "");
}
