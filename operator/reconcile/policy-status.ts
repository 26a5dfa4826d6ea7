// The status an McpPolicy should have, from what the operator observes. Pure: the
// reconciler gathers the inputs and writes the result only when it differs.
import type { IdentityConflict } from "../../policy/index.ts";
import type { Condition, McpPolicyStatus, ToolDefinitionsStatus } from "../kube-objects.ts";
import { ACCEPTED, AcceptedReason, nextCondition, PROGRAMMED, ProgrammedReason } from "./conditions.ts";
import type { PolicyEvaluation } from "./policy-catalog.ts";

const LISTED_PODS = 5;

export interface SelectedPod {
  readonly name: string;
  /** Carries the mcp-warden sidecar. */
  readonly protected: boolean;
  /** Its sidecar acknowledged the pod's current revision. */
  readonly inSync: boolean;
  readonly appliedRevision: string | undefined;
  readonly currentRevision: string;
}

export interface PolicyStatusInput {
  readonly generation: number;
  readonly current: McpPolicyStatus | undefined;
  readonly evaluation: PolicyEvaluation;
  readonly pods: readonly SelectedPod[];
  /** This policy's identity disagrees with an older policy's on one of its pods. */
  readonly identityConflict: IdentityConflict | undefined;
  /** Why its per-grant limits are one budget for every caller (no identity source), if they are. */
  readonly sharedGrantBudget?: string | undefined;
  /** For a policy with spec.toolDefinitions (tool-definition-status.ts); undefined otherwise. */
  readonly toolDefinitions?: ToolDefinitionsStatus | undefined;
  readonly now: Date;
}

export function desiredPolicyStatus(input: PolicyStatusInput): McpPolicyStatus {
  const { generation, evaluation, pods, now } = input;
  const unprotected = pods.filter((pod) => !pod.protected);
  const inSync = pods.filter((pod) => pod.protected && pod.inSync);
  const targets = { pods: pods.length, inSync: inSync.length, unprotected: unprotected.length };

  const accepted = nextCondition(
    input.current?.conditions,
    {
      type: ACCEPTED,
      status: evaluation.accepted ? "True" : "False",
      observedGeneration: generation,
      ...(evaluation.accepted && input.sharedGrantBudget !== undefined
        ? { reason: AcceptedReason.NoIdentitySource, message: `the policy is valid; warning: ${input.sharedGrantBudget}` }
        : { reason: evaluation.reason, message: evaluation.accepted ? "the policy is valid" : evaluation.message }),
    },
    now,
  );
  const programmed = nextCondition(input.current?.conditions, { type: PROGRAMMED, observedGeneration: generation, ...programmedState(input, targets) }, now);
  const conditions: Condition[] = [accepted, programmed];
  const status: McpPolicyStatus = { observedGeneration: generation, conditions, targets };
  if (input.toolDefinitions !== undefined) status.toolDefinitions = input.toolDefinitions;
  return status;
}

function programmedState(
  input: PolicyStatusInput,
  targets: { pods: number; inSync: number; unprotected: number },
): Pick<Condition, "status" | "reason" | "message"> {
  const { evaluation, pods } = input;
  const facts: string[] = [];
  const unprotected = pods.filter((pod) => !pod.protected);
  const behind = pods.filter((pod) => pod.protected && !pod.inSync);
  if (unprotected.length > 0) {
    facts.push(
      `${count(unprotected.length, "selected pod has", "selected pods have")} no mcp-warden sidecar (${names(unprotected)}); ` +
        "label the namespace mcpwarden.dev/inject=enabled (or the pods mcpwarden.dev/inject=true) and recreate them",
    );
  }
  if (behind.length > 0) {
    facts.push(
      `${count(behind.length, "sidecar has", "sidecars have")} not applied the current revision (${behind
        .slice(0, LISTED_PODS)
        .map((pod) => `${pod.name}: applied ${pod.appliedRevision ?? "none"}, current ${pod.currentRevision}`)
        .join(", ")}${behind.length > LISTED_PODS ? ", ..." : ""})`,
    );
  }
  if (!evaluation.accepted) {
    const kept = evaluation.enforced === undefined ? "no version of it is enforced" : `pods keep enforcing generation ${evaluation.enforced.metadata.generation ?? 0}`;
    return { status: "False", reason: ProgrammedReason.NotAccepted, message: [`the policy is not accepted; ${kept}`, ...facts].join("; ") };
  }
  if (input.identityConflict !== undefined) {
    return { status: "False", reason: ProgrammedReason.IdentityConflict, message: [input.identityConflict.message, ...facts].join("; ") };
  }
  if (unprotected.length > 0) return { status: "False", reason: ProgrammedReason.Unprotected, message: facts.join("; ") };
  if (behind.length > 0) return { status: "False", reason: ProgrammedReason.Pending, message: `${targets.inSync} of ${targets.pods} selected pods enforce the current revision; ${facts.join("; ")}` };
  return {
    status: "True",
    reason: ProgrammedReason.Programmed,
    message: targets.pods === 0 ? "the selector matches no pods" : `all ${count(targets.pods, "selected pod enforces", "selected pods enforce")} the current revision`,
  };
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function names(pods: readonly SelectedPod[]): string {
  const listed = pods.slice(0, LISTED_PODS).map((pod) => pod.name).join(", ");
  return pods.length > LISTED_PODS ? `${listed}, ...` : listed;
}

/** Whether writing `desired` would change anything the API server holds. */
export function statusEquals(current: McpPolicyStatus | undefined, desired: McpPolicyStatus): boolean {
  if (current === undefined) return false;
  if (current.observedGeneration !== desired.observedGeneration) return false;
  const targets = (status: McpPolicyStatus): string => JSON.stringify([status.targets?.pods ?? 0, status.targets?.inSync ?? 0, status.targets?.unprotected ?? 0]);
  if (current.targets === undefined || targets(current) !== targets(desired)) return false;
  const conditions = (status: McpPolicyStatus): string =>
    JSON.stringify(
      [...(status.conditions ?? [])]
        .sort((a, b) => (a.type < b.type ? -1 : 1))
        .map((c) => [c.type, c.status, c.reason, c.message, c.observedGeneration ?? null, c.lastTransitionTime]),
    );
  if (conditions(current) !== conditions(desired)) return false;
  return JSON.stringify(current.toolDefinitions ?? null) === JSON.stringify(desired.toolDefinitions ?? null);
}
