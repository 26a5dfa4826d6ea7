// Builds one decision table from every policy that selects a pod (or, standalone, every
// loaded policy). Policies are compiled oldest first (creationTimestamp, then
// namespace/name; a policy without a timestamp counts as newest), so when two disagree —
// a counter with another window, or another identity — the newer one is the one
// reported, naming the older.

import { CompileCache } from "./compile-cache.ts";
import { compilePolicy, type CounterUse } from "./compile-policy.ts";
import type { CompiledPolicy, DecisionTable, IdentityConflict } from "./decision-table.ts";
import { describeIdentity, identityFingerprint } from "./identity-problems.ts";
import { policyRef, type IdentitySpec, type McpPolicy, type PolicyMode } from "./model.ts";
import type { PolicyProblem } from "./problems.ts";

export type CompileResult = { ok: true; table: DecisionTable } | { ok: false; problems: PolicyProblem[] };

/** With no policy naming an identity every caller is one grant. */
const DEFAULT_IDENTITY: IdentitySpec = Object.freeze({ source: "none" });

/** `cache`: schemas and conditions this pass already compiled (readPolicyBundle's reads). */
export function compilePolicies(policies: readonly McpPolicy[], cache: CompileCache = new CompileCache()): CompileResult {
  const problems: PolicyProblem[] = [];
  const seen = new Set<string>();
  for (const policy of policies) {
    const ref = policyRef(policy);
    if (seen.has(ref)) problems.push({ policy: ref, path: "metadata.name", message: `${ref} is given more than once` });
    seen.add(ref);
  }

  const oldestFirst = [...policies].sort(compareAge);
  const counters = new Map<string, CounterUse>();
  const compiled = new Map<McpPolicy, CompiledPolicy>();
  for (const policy of oldestFirst) {
    const result = compilePolicy(policy, { cache, counters });
    problems.push(...result.problems);
    if (result.compiled !== undefined) compiled.set(policy, result.compiled);
  }
  if (problems.length > 0) return { ok: false, problems };

  const { identity, conflicts } = agreeOnIdentity(oldestFirst);
  const ordered = [...policies].sort(compareRef);
  const compiledInOrder = ordered.map((policy) => compiled.get(policy) as CompiledPolicy);
  return {
    ok: true,
    table: {
      policies: ordered,
      identity,
      identityConflicts: conflicts,
      enforcing: compiledInOrder.filter((policy) => enforces(policy.mode)),
      audit: compiledInOrder.filter((policy) => !enforces(policy.mode)),
      engines: cache.engines,
    },
  };
}

/** Whether a policy's decisions are enforced; a mode that slipped past the reader is (fail closed). */
function enforces(mode: PolicyMode): boolean {
  switch (mode) {
    case "enforce":
      return true;
    case "audit":
      return false;
    default:
      mode satisfies never;
      return true;
  }
}

/**
 * The oldest policy that names an identity decides it; a newer one naming another is a
 * conflict (its rules still apply, to callers identified the older policy's way).
 * Policies without `identity` have no opinion. The operator reports the same conflicts
 * in status, so both sides call this one function.
 */
export function agreeOnIdentity(policies: readonly McpPolicy[]): { identity: IdentitySpec; conflicts: IdentityConflict[] } {
  let decided: { identity: IdentitySpec; ref: string; fingerprint: string } | undefined;
  const conflicts: IdentityConflict[] = [];
  for (const policy of [...policies].sort(compareAge)) {
    const identity = policy.spec.identity;
    if (identity === undefined) continue;
    const ref = policyRef(policy);
    const fingerprint = identityFingerprint(identity);
    if (decided === undefined) {
      decided = { identity, ref, fingerprint };
    } else if (fingerprint !== decided.fingerprint) {
      conflicts.push({
        policy: ref,
        conflictsWith: decided.ref,
        message:
          `identity (${describeIdentity(identity)}) disagrees with the older policy ${decided.ref} ` +
          `(${describeIdentity(decided.identity)}); this policy's rules apply to callers as ${decided.ref} identifies them`,
      });
    }
  }
  return { identity: decided?.identity ?? DEFAULT_IDENTITY, conflicts };
}

function creationTime(policy: McpPolicy): number {
  const text = policy.metadata.creationTimestamp;
  const time = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isNaN(time) ? Number.POSITIVE_INFINITY : time;
}

/** Oldest first by creationTimestamp (a policy without one counts as newest), then namespace/name. */
function compareAge(a: McpPolicy, b: McpPolicy): number {
  const difference = creationTime(a) - creationTime(b);
  if (difference < 0) return -1;
  if (difference > 0) return 1;
  return compareRef(a, b);
}

/** namespace/name order, by code unit (names are ASCII). */
function compareRef(a: McpPolicy, b: McpPolicy): number {
  const left = [a.metadata.namespace ?? "", a.metadata.name] as const;
  const right = [b.metadata.namespace ?? "", b.metadata.name] as const;
  for (let index = 0; index < 2; index++) {
    if (left[index] !== right[index]) return (left[index] as string) < (right[index] as string) ? -1 : 1;
  }
  return 0;
}
