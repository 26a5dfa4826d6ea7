import { describe, expect, it } from "vitest";
import { compilePolicies, readMcpPolicy, readPolicyBundle, type McpPolicy } from "../../policy/index.ts";
import { InMemoryStore } from "../testing/in-memory-cluster.ts";
import { policyObject } from "../testing/objects.ts";
import type { McpPolicyObject } from "../kube-objects.ts";
import { buildBundle, PolicyCatalog } from "./policy-catalog.ts";
import { TEST_ENGINES, testCache } from "../../test/support/policy-engines.ts";

const selector = { matchLabels: { app: "mockloop" } };
const labels = { app: "mockloop" };

function catalogWith(...policies: McpPolicyObject[]): { catalog: PolicyCatalog; store: InMemoryStore<McpPolicyObject> } {
  const store = new InMemoryStore(policies);
  return { catalog: new PolicyCatalog(store), store };
}

describe("PolicyCatalog", () => {
  it("accepts a valid policy and builds a bundle the sidecar can read", () => {
    const { catalog } = catalogWith(policyObject("agents", "p", { selector, tools: { list_runs: {} } }));
    const evaluation = catalog.evaluation("agents", "p");
    expect(evaluation).toMatchObject({ accepted: true, reason: "Accepted" });
    const bundle = catalog.bundleFor("agents", labels);
    expect(bundle.bundle.policies).toEqual([{ namespace: "agents", name: "p", generation: 1 }]);
    const read = readPolicyBundle(JSON.parse(bundle.json), TEST_ENGINES);
    expect(read.ok).toBe(true);
    expect(bundle.revision).toMatch(/^[0-9a-f]{16}$/);
  });

  it("reports a CEL condition that does not compile, with the field, and keeps nothing enforced for a new policy", () => {
    const { catalog } = catalogWith(policyObject("agents", "bad", { selector, tools: { run: { when: "args.x ==" } } }));
    const evaluation = catalog.evaluation("agents", "bad");
    expect(evaluation?.accepted).toBe(false);
    expect(evaluation?.reason).toBe("Invalid");
    expect(evaluation?.message).toContain('spec.tools["run"].when');
    expect(evaluation?.enforced).toBeUndefined();
    expect(catalog.bundleFor("agents", labels).bundle.policies).toEqual([]);
  });

  it("keeps enforcing the last accepted generation when an edit breaks a policy", () => {
    const { catalog, store } = catalogWith(policyObject("agents", "p", { selector, tools: { run: { when: "args.x == 'a'" } } }, { generation: 1 }));
    const before = catalog.bundleFor("agents", labels);
    store.put(policyObject("agents", "p", { selector, tools: { run: { when: "args.x ==" } } }, { generation: 2 }));
    catalog.invalidate("agents");
    const evaluation = catalog.evaluation("agents", "p");
    expect(evaluation?.accepted).toBe(false);
    expect(evaluation?.enforced?.metadata.generation).toBe(1);
    expect(catalog.bundleFor("agents", labels).revision).toBe(before.revision);
  });

  it("gives the same revision for the same policies on another replica, and a new one after an edit", () => {
    const object = policyObject("agents", "p", { selector }, { generation: 3 });
    const one = catalogWith(object).catalog.bundleFor("agents", labels).revision;
    const two = catalogWith(structuredClone(object)).catalog.bundleFor("agents", labels).revision;
    expect(one).toBe(two);
    const edited = catalogWith(policyObject("agents", "p", { selector }, { generation: 4 })).catalog.bundleFor("agents", labels).revision;
    expect(edited).not.toBe(one);
  });

  it("selects by labels: pods of another app get an empty bundle", () => {
    const { catalog } = catalogWith(policyObject("agents", "p", { selector }));
    expect(catalog.bundleFor("agents", { app: "other" }).bundle.policies).toEqual([]);
    expect(catalog.bundleFor("other-namespace", labels).bundle.policies).toEqual([]);
  });

  it("names the newer policy's identity conflict, naming the older", () => {
    const { catalog } = catalogWith(
      policyObject("agents", "older", { selector, identity: { source: "header", header: "x-agent-id" } }, { created: "2026-01-01T00:00:00Z" }),
      policyObject("agents", "newer", { selector, identity: { source: "session" } }, { created: "2026-01-02T00:00:00Z" }),
    );
    const bundle = catalog.bundleFor("agents", labels);
    expect(bundle.identityConflicts).toHaveLength(1);
    expect(bundle.identityConflicts[0]).toMatchObject({ policy: "agents/newer", conflictsWith: "agents/older" });
    expect(bundle.bundle.policies.map((p) => p.name)).toEqual(["newer", "older"]);
  });

  it("rejects the newer of two policies that use one counter differently, even when they select different pods", () => {
    const limit = (max: number) => ({ tools: { run: { limits: [{ counter: "runs", window: "minute", max }] } } });
    const { catalog } = catalogWith(
      policyObject("agents", "older", { selector, ...limit(10) }, { created: "2026-01-01T00:00:00Z" }),
      policyObject("agents", "newer", { selector: { matchLabels: { app: "other" } }, ...limit(20) }, { created: "2026-01-02T00:00:00Z" }),
    );
    expect(catalog.evaluation("agents", "older")?.accepted).toBe(true);
    const newer = catalog.evaluation("agents", "newer");
    expect(newer?.reason).toBe("CounterConflict");
    expect(newer?.message).toContain("agents/older");
    expect(catalog.bundleFor("agents", { app: "other" }).bundle.policies).toEqual([]);
  });

  it("computes a shared bundle once for many pods with the same labels", () => {
    const { catalog } = catalogWith(policyObject("agents", "p", { selector }));
    const first = catalog.bundleFor("agents", { app: "mockloop", "pod-template-hash": "abc" });
    const second = catalog.bundleFor("agents", { "pod-template-hash": "abc", app: "mockloop" });
    expect(second).toBe(first);
  });
});

describe("buildBundle", () => {
  function model(object: McpPolicyObject): McpPolicy {
    const result = readMcpPolicy(object, testCache());
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    return result.policy;
  }
  const policies = [
    model(policyObject("agents", "b", { selector, identity: { source: "session" } }, { created: "2026-01-03T00:00:00Z" })),
    model(policyObject("agents", "a", { selector, identity: { source: "header", header: "X-Agent" } }, { created: "2026-01-02T00:00:00Z" })),
    model(policyObject("agents", "c", { selector, identity: { source: "header", header: "x-agent" } }, { created: "2026-01-04T00:00:00Z" })),
    model(policyObject("agents", "d", { selector, identity: { source: "none" } }, { created: "2026-01-04T00:00:00Z" })),
  ];

  it("without compiling gives the bundle and identity conflicts compiling gives", () => {
    const fast = buildBundle(policies, true);
    const compiled = buildBundle(policies, false);
    expect(fast.json).toBe(compiled.json);
    expect(fast.identityConflicts).toEqual(compiled.identityConflicts);
    const table = compilePolicies(policies, testCache());
    expect(table.ok && table.table.identityConflicts).toEqual(fast.identityConflicts);
    expect(fast.identityConflicts.map((c) => c.policy)).toEqual(["agents/b", "agents/d"]);
  });
});
