// What the operator sends a sidecar: `{revision, policies: [{namespace, name,
// generation}], table}` (ARCHITECTURE.md "Sidecar ↔ operator protocol").
//
// The compiled table holds closures (planned CEL, ajv validators) and cannot be sent, so
// the bundle's `table` carries the validated source policies and the sidecar compiles
// them itself with the same compilePolicies. One code path decides in both places, a
// bundle is plain JSON a person can read, and the sidecar re-validates what it receives
// instead of trusting it.

import { NO_ENGINES, type PolicyEngines } from "./policy-engines.ts";
import { CompileCache } from "./compile-cache.ts";
import { compilePolicies } from "./compile-policies.ts";
import type { DecisionTable } from "./decision-table.ts";
import { isRecord } from "./document-fields.ts";
import { policyRef, type McpPolicy } from "./model.ts";
import { fieldPath, indexPath, type PolicyProblem } from "./problems.ts";
import { readMcpPolicy } from "./read-mcp-policy.ts";

interface BundlePolicyRef {
  namespace: string;
  name: string;
  generation: number;
}

export interface PolicyBundle {
  /** Chosen by the operator; acknowledged by the sidecar after applying the bundle. */
  revision: string;
  policies: BundlePolicyRef[];
  table: { policies: McpPolicy[] };
}

export function createPolicyBundle(revision: string, table: DecisionTable): PolicyBundle {
  return {
    revision,
    policies: table.policies.map((policy) => ({
      namespace: policy.metadata.namespace ?? "",
      name: policy.metadata.name,
      generation: policy.metadata.generation ?? 0,
    })),
    table: { policies: [...table.policies] },
  };
}

export type ReadBundleResult =
  | { ok: true; bundle: PolicyBundle; table: DecisionTable }
  | { ok: false; problems: PolicyProblem[] };

/**
 * Reads a received bundle (parsed JSON) and compiles its table with `engines` (those its
 * policies need: policyEngineNeeds; kept across bundles, so each bundle does not pay for
 * a new ajv).
 */
export function readPolicyBundle(value: unknown, engines: PolicyEngines = NO_ENGINES): ReadBundleResult {
  const problems: PolicyProblem[] = [];
  if (!isRecord(value)) return { ok: false, problems: [{ path: "", message: "a bundle must be an object" }] };
  const revision = value["revision"];
  if (typeof revision !== "string" || revision === "") problems.push({ path: "revision", message: "must be a non-empty string" });
  const refs = readRefs(value["policies"], problems);
  const table = value["table"];
  const sources = isRecord(table) ? table["policies"] : undefined;
  if (!Array.isArray(sources)) {
    problems.push({ path: "table.policies", message: "must be a list of policies" });
    return { ok: false, problems };
  }
  // Reading a policy compiles it; compiling them together below reuses that work.
  const cache = new CompileCache(engines);
  const policies: McpPolicy[] = [];
  sources.forEach((source, index) => {
    const result = readMcpPolicy(source, cache);
    const base = indexPath("table.policies", index);
    if (result.ok) policies.push(result.policy);
    else for (const problem of result.problems) problems.push({ ...problem, path: problem.path === "" ? base : `${base}.${problem.path}` });
  });
  if (problems.length > 0) return { ok: false, problems };

  const listed = JSON.stringify((refs ?? []).map((ref) => [ref.namespace, ref.name, ref.generation]).sort());
  const carried = JSON.stringify(policies.map((policy) => [policy.metadata.namespace ?? "", policy.metadata.name, policy.metadata.generation ?? 0]).sort());
  if (listed !== carried) {
    problems.push({ path: "policies", message: `does not list the policies the table carries (${policies.map(policyRef).join(", ")})` });
    return { ok: false, problems };
  }
  const compiled = compilePolicies(policies, cache);
  if (!compiled.ok) return compiled;
  return { ok: true, bundle: { revision: revision as string, policies: refs ?? [], table: { policies } }, table: compiled.table };
}

function readRefs(value: unknown, problems: PolicyProblem[]): BundlePolicyRef[] | undefined {
  if (!Array.isArray(value)) {
    problems.push({ path: "policies", message: "must be a list of {namespace, name, generation}" });
    return undefined;
  }
  const refs: BundlePolicyRef[] = [];
  value.forEach((item, index) => {
    const path = indexPath("policies", index);
    if (
      isRecord(item) &&
      typeof item["namespace"] === "string" &&
      typeof item["name"] === "string" &&
      typeof item["generation"] === "number"
    ) {
      refs.push({ namespace: item["namespace"], name: item["name"], generation: item["generation"] });
    } else {
      problems.push({ path: fieldPath(path, "name"), message: "must be {namespace, name, generation}" });
    }
  });
  return refs;
}
