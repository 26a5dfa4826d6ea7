// What every replica knows about the McpPolicies: whether each is accepted, which
// version pods enforce, and the bundle (with its revision) for any set of pod labels.
// Computed lazily per namespace from the policy cache and dropped when a policy of the
// namespace changes. Revisions are content-derived (policy uid and generation), so all
// replicas compute the same revision for the same pod: an ack taken by one replica
// means the same thing to the leader.
import { createHash } from "node:crypto";
import { allPolicyEngines } from "../../policy/all-engines.ts";
import type { PolicyEngines } from "../../policy/policy-engines.ts";
import {
  agreeOnIdentity,
  CompileCache,
  compilePolicies,
  createPolicyBundle,
  formatProblem,
  grantScopedLimits,
  policyRef,
  readMcpPolicy,
  sharedGrantBudget,
  type IdentityConflict,
  type IdentitySpec,
  type McpPolicy,
  type PolicyBundle,
  type ReadPolicyResult,
} from "../../policy/index.ts";
import type { BundleEvent } from "../../protocol/index.ts";
import type { ObjectStore } from "../cluster.ts";
import type { McpPolicyObject } from "../kube-objects.ts";
import { AcceptedReason } from "./conditions.ts";
import { compareAge, counterConflicts } from "./counter-conflicts.ts";
import { labelSetKey, selectorMatches } from "./label-selector.ts";

/** Problems listed in a condition message; the rest are counted. */
const MAX_LISTED_PROBLEMS = 10;

export interface PolicyEvaluation {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly generation: number;
  readonly accepted: boolean;
  readonly reason: (typeof AcceptedReason)[keyof typeof AcceptedReason];
  readonly message: string;
  /** The version pods enforce: this one if accepted, else the last accepted one seen, else none. */
  readonly enforced: McpPolicy | undefined;
}

export interface PodBundle {
  readonly revision: string;
  readonly bundle: BundleEvent;
  /** The bundle serialised once, sent as is on every stream that needs it. */
  readonly json: string;
  readonly identityConflicts: readonly IdentityConflict[];
  /**
   * Who callers are for the pods of this bundle: what every selected policy (before any is
   * left out) agrees on. Kept here so a policy's reconcile need not select the pods'
   * policies again (that was quadratic in the namespace's policies).
   */
  readonly identity: IdentitySpec;
  /** Policies left out because they would not compile with the others (refs). */
  readonly dropped: readonly string[];
}

interface NamespaceState {
  readonly evaluations: Map<string, PolicyEvaluation>;
  /** Enforced versions, in namespace/name order. */
  readonly enforced: readonly McpPolicy[];
  /** Enforced versions that are not the current spec (the last accepted one instead). */
  readonly stale: ReadonlySet<McpPolicy>;
  /** By labels object (a cached pod's, unchanged until the pod is), by label set, then by selection. */
  readonly byLabelsObject: WeakMap<object, PodBundle>;
  readonly byLabels: Map<string, PodBundle>;
  readonly bySelection: Map<string, PodBundle>;
}

export class PolicyCatalog {
  readonly #store: ObjectStore<McpPolicyObject>;
  readonly #reads = new Map<string, { generation: number; result: ReadPolicyResult }>();
  readonly #lastAccepted = new Map<string, McpPolicy>();
  readonly #namespaces = new Map<string, NamespaceState>();
  /** One ajv across reads: a new one would compile the meta-schema on every edit, before the push. */
  readonly #engines = allPolicyEngines();

  constructor(store: ObjectStore<McpPolicyObject>) {
    this.#store = store;
  }

  /** A policy of the namespace was added, changed or deleted. */
  invalidate(namespace: string, deletedUid?: string): void {
    this.#namespaces.delete(namespace);
    if (deletedUid !== undefined) {
      this.#reads.delete(deletedUid);
      this.#lastAccepted.delete(deletedUid);
    }
  }

  evaluation(namespace: string, name: string): PolicyEvaluation | undefined {
    return this.#state(namespace).evaluations.get(name);
  }

  /**
   * Each policy's acceptance (status, reason, message) by name, to tell whose changed;
   * undefined when the namespace is not evaluated and `evaluate` is not set.
   */
  acceptance(namespace: string, evaluate = false): Map<string, string> | undefined {
    const state = evaluate ? this.#state(namespace) : this.#namespaces.get(namespace);
    if (state === undefined) return undefined;
    const result = new Map<string, string>();
    for (const [name, evaluation] of state.evaluations) result.set(name, `${evaluation.accepted}|${evaluation.reason}|${evaluation.message}`);
    return result;
  }

  /**
   * Why the policy's per-grant limits are one budget for every caller, if they are: the
   * identity that counts is the one each selected pod's policies agree on (the policy's
   * own when it selects no pod yet).
   */
  sharedGrantBudget(namespace: string, policy: McpPolicy, podLabels: readonly (Readonly<Record<string, string>> | undefined)[]): string | undefined {
    if (grantScopedLimits(policy).length === 0) return undefined;
    if (podLabels.length === 0) return sharedGrantBudget(policy, agreeOnIdentity([policy]).identity);
    const seen = new Set<PodBundle>();
    for (const labels of podLabels) {
      const bundle = this.bundleFor(namespace, labels);
      if (seen.has(bundle)) continue;
      seen.add(bundle);
      const shared = sharedGrantBudget(policy, bundle.identity);
      if (shared !== undefined) return shared;
    }
    return undefined;
  }

  /** The bundle for a pod with these labels in this namespace. */
  bundleFor(namespace: string, labels: Readonly<Record<string, string>> | undefined): PodBundle {
    const state = this.#state(namespace);
    const same = labels === undefined ? undefined : state.byLabelsObject.get(labels);
    if (same !== undefined) return same;
    const labelsKey = labelSetKey(labels);
    const known = state.byLabels.get(labelsKey);
    if (known !== undefined) {
      if (labels !== undefined) state.byLabelsObject.set(labels, known);
      return known;
    }
    const selected = state.enforced.filter((policy) => selectorMatches(policy.spec.selector, labels));
    const selectionKey = selected.map(versionKey).join(",");
    let bundle = state.bySelection.get(selectionKey);
    if (bundle === undefined) {
      bundle = buildBundle(selected, selected.every((policy) => !state.stale.has(policy)), this.#engines);
      state.bySelection.set(selectionKey, bundle);
    }
    state.byLabels.set(labelsKey, bundle);
    if (labels !== undefined) state.byLabelsObject.set(labels, bundle);
    return bundle;
  }

  #state(namespace: string): NamespaceState {
    let state = this.#namespaces.get(namespace);
    if (state === undefined) {
      state = this.#evaluate(namespace);
      this.#namespaces.set(namespace, state);
    }
    return state;
  }

  #evaluate(namespace: string): NamespaceState {
    const objects = this.#store.list(namespace);
    const valid: McpPolicy[] = [];
    const invalid = new Map<McpPolicyObject, string>();
    for (const object of objects) {
      const result = this.#read(object);
      if (result.ok) valid.push(result.policy);
      else invalid.set(object, describeProblems(result.problems.map(formatProblem)));
    }
    const conflicts = counterConflicts([...valid].sort(compareAge));
    const evaluations = new Map<string, PolicyEvaluation>();
    for (const policy of valid) {
      const uid = policy.metadata.uid ?? policyRef(policy);
      const conflict = conflicts.get(policyRef(policy));
      if (conflict === undefined) this.#lastAccepted.set(uid, policy);
      evaluations.set(policy.metadata.name, {
        namespace,
        name: policy.metadata.name,
        uid,
        generation: policy.metadata.generation ?? 0,
        accepted: conflict === undefined,
        reason: conflict === undefined ? AcceptedReason.Accepted : AcceptedReason.CounterConflict,
        message: conflict ?? "the policy is valid",
        enforced: conflict === undefined ? policy : this.#lastAccepted.get(uid),
      });
    }
    for (const [object, message] of invalid) {
      const name = object.metadata?.name ?? "";
      const uid = object.metadata?.uid ?? `${namespace}/${name}`;
      evaluations.set(name, {
        namespace,
        name,
        uid,
        generation: object.metadata?.generation ?? 0,
        accepted: false,
        reason: AcceptedReason.Invalid,
        message,
        enforced: this.#lastAccepted.get(uid),
      });
    }
    const enforced = [...evaluations.values()]
      .map((evaluation) => evaluation.enforced)
      .filter((policy): policy is McpPolicy => policy !== undefined)
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
    const stale = new Set([...evaluations.values()].filter((evaluation) => !evaluation.accepted && evaluation.enforced !== undefined).map((evaluation) => evaluation.enforced as McpPolicy));
    return { evaluations, enforced, stale, byLabelsObject: new WeakMap(), byLabels: new Map(), bySelection: new Map() };
  }

  #read(object: McpPolicyObject): ReadPolicyResult {
    const uid = object.metadata?.uid ?? "";
    const generation = object.metadata?.generation ?? 0;
    const cached = this.#reads.get(uid);
    if (cached !== undefined && cached.generation === generation && uid !== "") return cached.result;
    // status is the operator's own output, not input
    const result = readMcpPolicy(
      { apiVersion: object.apiVersion ?? "mcpwarden.dev/v1alpha1", kind: object.kind ?? "McpPolicy", metadata: object.metadata, spec: object.spec },
      new CompileCache(this.#engines),
    );
    if (uid !== "") this.#reads.set(uid, { generation, result });
    return result;
  }
}

function versionKey(policy: McpPolicy): string {
  return `${policy.metadata.uid ?? policyRef(policy)}@${policy.metadata.generation ?? 0}`;
}

function describeProblems(lines: string[]): string {
  const listed = lines.slice(0, MAX_LISTED_PROBLEMS).join("; ");
  return lines.length > MAX_LISTED_PROBLEMS ? `${listed}; and ${lines.length - MAX_LISTED_PROBLEMS} more problems` : listed;
}

/**
 * The bundle of the selected policies. Policies accepted as they are (each compiled
 * alone, counters consistent across the namespace) always compile together, so they are
 * not compiled again here: that would cost an edit's propagation the time of compiling
 * every argument schema and CEL condition once more, and the sidecar compiles the bundle
 * anyway. A set holding an older, last accepted version is compiled to be sure; a policy
 * that does not compile with the others is then left out, newest first.
 */
export function buildBundle(selected: readonly McpPolicy[], allCurrent = false, engines: PolicyEngines = allPolicyEngines()): PodBundle {
  // As compilePolicies finds them (the same function): the oldest policy naming an identity decides.
  const agreed = agreeOnIdentity(selected);
  if (allCurrent) {
    const revision = revisionOf(selected);
    const ordered = [...selected].sort(compareRefOrder);
    const bundle: PolicyBundle = {
      revision,
      policies: ordered.map((policy) => ({ namespace: policy.metadata.namespace ?? "", name: policy.metadata.name, generation: policy.metadata.generation ?? 0 })),
      table: { policies: ordered },
    };
    return { revision, bundle, json: JSON.stringify(bundle), identityConflicts: agreed.conflicts, identity: agreed.identity, dropped: [] };
  }
  let policies = [...selected];
  const dropped: string[] = [];
  for (;;) {
    const compiled = compilePolicies(policies, new CompileCache(engines));
    if (compiled.ok) {
      const revision = revisionOf(policies);
      const bundle = createPolicyBundle(revision, compiled.table);
      return { revision, bundle, json: JSON.stringify(bundle), identityConflicts: compiled.table.identityConflicts, identity: agreed.identity, dropped };
    }
    const named = new Set(compiled.problems.map((problem) => problem.policy).filter((ref): ref is string => ref !== undefined));
    const newestFirst = [...policies].sort(compareAge).reverse();
    const victim = newestFirst.find((policy) => named.has(policyRef(policy))) ?? newestFirst[0];
    if (victim === undefined) throw new Error("an empty policy set did not compile");
    dropped.push(policyRef(victim));
    policies = policies.filter((policy) => policy !== victim);
  }
}

function compareRefOrder(a: McpPolicy, b: McpPolicy): number {
  const left = [a.metadata.namespace ?? "", a.metadata.name];
  const right = [b.metadata.namespace ?? "", b.metadata.name];
  for (let index = 0; index < 2; index++) if (left[index] !== right[index]) return (left[index] as string) < (right[index] as string) ? -1 : 1;
  return 0;
}

/** The same policies at the same generations give the same revision on every replica. */
function revisionOf(policies: readonly McpPolicy[]): string {
  const key = policies.map((policy) => `${policyRef(policy)}#${versionKey(policy)}`).sort().join("\n");
  return createHash("sha256").update(`mcp-warden bundle v1\n${key}`).digest("hex").slice(0, 16);
}
