import { describe, expect, it } from "vitest";
import type { McpPolicyObject, McpPolicyStatus, NetworkPolicy, Pod, Service } from "../kube-objects.ts";
import { OperatorMetrics } from "../metrics/operator-metrics.ts";
import { silentLogger } from "../operator-logger.ts";
import { InMemoryClusterClient, InMemoryStore } from "../testing/in-memory-cluster.ts";
import { podObject, policyObject, serviceObject } from "../testing/objects.ts";
import { EventRecorder } from "./event-recorder.ts";
import { PolicyCatalog } from "./policy-catalog.ts";
import { reconcilePolicy, type ReconcileContext } from "./reconcile-policy.ts";

const selector = { matchLabels: { app: "mockloop" } };
const labels = { app: "mockloop" };

function setUp(policies: McpPolicyObject[], pods: Pod[] = [], services: Service[] = [], networkPolicies: NetworkPolicy[] = []) {
  const policyStore = new InMemoryStore(policies);
  const podStore = new InMemoryStore(pods);
  const client = new InMemoryClusterClient();
  const catalog = new PolicyCatalog(policyStore);
  const metrics = new OperatorMetrics({ processMetrics: false });
  const context: ReconcileContext = {
    policies: policyStore,
    pods: podStore,
    services: new InMemoryStore(services),
    networkPolicies: new InMemoryStore(networkPolicies),
    namespaceSynced: () => true,
    catalog,
    client,
    events: new EventRecorder(client, "test", silentLogger()),
    metrics,
    now: () => new Date("2026-02-01T00:00:00Z"),
  };
  return { context, client, catalog, policyStore, podStore, metrics };
}

function lastStatus(client: InMemoryClusterClient): McpPolicyStatus {
  const writes = client.writesOf("status");
  return writes.at(-1)?.body as McpPolicyStatus;
}

function condition(status: McpPolicyStatus, type: string) {
  return status.conditions?.find((c) => c.type === type);
}

describe("reconcilePolicy", () => {
  it("counts pods, in-sync sidecars and unprotected pods, and says Programmed only when all enforce the current revision", async () => {
    const policy = policyObject("agents", "p", { selector }, { generation: 2 });
    const { context, client, catalog } = setUp([policy]);
    const revision = catalog.bundleFor("agents", labels).revision;
    const pods = [
      podObject("agents", "a", labels, { applied: revision }),
      podObject("agents", "b", labels, { applied: "0000000000000000" }),
      podObject("agents", "c", labels, { injected: false }),
      podObject("agents", "done", labels, { phase: "Succeeded" }),
      podObject("agents", "other", { app: "other" }),
    ];
    for (const pod of pods) (context.pods as InMemoryStore<Pod>).put(pod);
    await reconcilePolicy("agents/p", context);
    const status = lastStatus(client);
    expect(status.observedGeneration).toBe(2);
    expect(status.targets).toEqual({ pods: 3, inSync: 1, unprotected: 1 });
    expect(condition(status, "Accepted")).toMatchObject({ status: "True", reason: "Accepted", observedGeneration: 2 });
    const programmed = condition(status, "Programmed");
    expect(programmed).toMatchObject({ status: "False", reason: "Unprotected" });
    expect(programmed?.message).toContain("c");
    expect(programmed?.message).toContain("b: applied 0000000000000000");
  });

  it("warns in Accepted (reason NoIdentitySource) and with an Event when per-grant limits have no identity source on its pods", async () => {
    const limited = { selector, tools: { run: { limits: [{ counter: "runs", window: "minute", max: 10 }] } } };
    const { context, client } = setUp([policyObject("agents", "shared", limited)], [podObject("agents", "a", labels)]);
    await reconcilePolicy("agents/shared", context);
    const accepted = condition(lastStatus(client), "Accepted");
    expect(accepted).toMatchObject({ status: "True", reason: "NoIdentitySource" });
    expect(accepted?.message).toContain('per-grant limits (tools["run"].limits[0]) have no identity source');
    expect(client.writesOf("event").map((write) => (write.body as { reason: string }).reason)).toContain("NoIdentitySource");

    // Another policy of the same pods naming the caller gives these limits a grant per caller.
    const named = setUp(
      [
        policyObject("agents", "shared", limited, { created: "2026-01-02T00:00:00Z" }),
        policyObject("agents", "identity", { selector, identity: { source: "header", header: "x-agent-id" } }, { created: "2026-01-01T00:00:00Z" }),
      ],
      [podObject("agents", "a", labels)],
    );
    await reconcilePolicy("agents/shared", named.context);
    expect(condition(lastStatus(named.client), "Accepted")).toMatchObject({ status: "True", reason: "Accepted", message: "the policy is valid" });

    // Session- and global-scoped limits are what they say.
    const scoped = setUp([policyObject("agents", "scoped", { selector, tools: { run: { limits: [{ counter: "runs", window: "minute", max: 10, scope: "global" }] } } })]);
    await reconcilePolicy("agents/scoped", scoped.context);
    expect(condition(lastStatus(scoped.client), "Accepted")).toMatchObject({ reason: "Accepted" });
  });

  it("writes status only when it changes", async () => {
    const policy = policyObject("agents", "p", { selector });
    const { context, client, policyStore, catalog } = setUp([policy]);
    await reconcilePolicy("agents/p", context);
    expect(client.writesOf("status")).toHaveLength(1);
    const written = lastStatus(client);
    policyStore.put({ ...policy, status: written });
    catalog.invalidate("agents");
    await reconcilePolicy("agents/p", context);
    await reconcilePolicy("agents/p", context);
    expect(client.writesOf("status")).toHaveLength(1);
    expect(condition(written, "Programmed")).toMatchObject({ status: "True", message: "the selector matches no pods" });
  });

  it("keeps lastTransitionTime when a condition's status stays the same", async () => {
    const policy = policyObject("agents", "p", { selector });
    const { context, client, policyStore, catalog, podStore } = setUp([policy]);
    await reconcilePolicy("agents/p", context);
    const first = lastStatus(client);
    policyStore.put({ ...policy, status: first });
    catalog.invalidate("agents");
    podStore.put(podObject("agents", "a", labels, { applied: catalog.bundleFor("agents", labels).revision }));
    await reconcilePolicy("agents/p", { ...context, now: () => new Date("2026-03-01T00:00:00Z") });
    const second = lastStatus(client);
    expect(second.targets?.pods).toBe(1);
    expect(condition(second, "Programmed")?.lastTransitionTime).toBe(condition(first, "Programmed")?.lastTransitionTime);
  });

  it("sets Accepted=False with the exact reason and records one Warning event per generation", async () => {
    const policy = policyObject("agents", "bad", { selector, tools: { run: { when: "args.x ==" } } });
    const { context, client } = setUp([policy]);
    await reconcilePolicy("agents/bad", context);
    await reconcilePolicy("agents/bad", context);
    const status = lastStatus(client);
    expect(condition(status, "Accepted")).toMatchObject({ status: "False", reason: "Invalid" });
    expect(condition(status, "Accepted")?.message).toContain('spec.tools["run"].when');
    expect(condition(status, "Programmed")).toMatchObject({ status: "False", reason: "NotAccepted" });
    const events = client.writesOf("event");
    expect(events).toHaveLength(1);
    expect(events[0]?.body).toMatchObject({ type: "Warning", reason: "InvalidPolicy", regarding: { kind: "McpPolicy", name: "bad" } });
  });

  it("gives the newer of two policies with different identities IdentityConflict naming the older", async () => {
    const older = policyObject("agents", "older", { selector, identity: { source: "header", header: "x-agent-id" } }, { created: "2026-01-01T00:00:00Z" });
    const newer = policyObject("agents", "newer", { selector, identity: { source: "session" } }, { created: "2026-01-05T00:00:00Z" });
    const { context, client, podStore } = setUp([older, newer]);
    podStore.put(podObject("agents", "a", labels));
    await reconcilePolicy("agents/newer", context);
    const status = lastStatus(client);
    expect(condition(status, "Programmed")).toMatchObject({ status: "False", reason: "IdentityConflict" });
    expect(condition(status, "Programmed")?.message).toContain("agents/older");
    await reconcilePolicy("agents/older", context);
    expect(condition(lastStatus(client), "Programmed")?.reason).not.toBe("IdentityConflict");
  });

  it("warns (on the Service and the policy) when a Service selecting a protected pod targets the upstream port", async () => {
    const { context, client, podStore } = setUp(
      [policyObject("agents", "p", { selector })],
      [],
      [serviceObject("agents", "direct", labels, 8080), serviceObject("agents", "by-name", labels, "http"), serviceObject("agents", "good", labels, "mcp-warden")],
    );
    podStore.put(podObject("agents", "a", labels));
    await reconcilePolicy("agents/p", context);
    await reconcilePolicy("agents/p", context);
    const events = client.writesOf("event").map((write) => write.body as { reason: string; regarding: { kind: string; name: string } });
    expect(events.filter((e) => e.regarding.kind === "Service").map((e) => e.regarding.name).sort()).toEqual(["by-name", "direct"]);
    expect(events.every((e) => e.reason === "TargetsUpstreamPort")).toBe(true);
    expect(events.filter((e) => e.regarding.kind === "McpPolicy")).toHaveLength(2);
  });

  it("applies an owned NetworkPolicy admitting only the sidecar's ports, and deletes it when disabled", async () => {
    const policy = policyObject("agents", "p", { selector, networkPolicy: "enabled" });
    const { context, client, policyStore, catalog } = setUp([policy]);
    await reconcilePolicy("agents/p", context);
    const applied = client.writesOf("apply")[0]?.body as NetworkPolicy;
    expect(applied.metadata?.ownerReferences).toEqual([{ apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpPolicy", name: "p", uid: "uid-p", controller: true }]);
    expect(applied.spec).toEqual({
      podSelector: selector,
      policyTypes: ["Ingress"],
      ingress: [{ ports: [{ protocol: "TCP", port: "mcp-warden" }, { protocol: "TCP", port: "warden-admin" }] }],
    });
    // Up to date in the cache: no second apply.
    (context.networkPolicies as InMemoryStore<NetworkPolicy>).put({ ...applied, metadata: { ...applied.metadata, uid: "np-uid" } });
    await reconcilePolicy("agents/p", context);
    expect(client.writesOf("apply")).toHaveLength(1);
    policyStore.put(policyObject("agents", "p", { selector, networkPolicy: "disabled" }, { generation: 2 }));
    catalog.invalidate("agents");
    await reconcilePolicy("agents/p", context);
    expect(client.writesOf("delete")).toEqual([{ kind: "delete", target: "agents/mcpwarden-p", body: { uid: "np-uid" } }]);
  });

  it("waits for the namespace's pods to be listed before writing status", async () => {
    const { context, client } = setUp([policyObject("agents", "p", { selector })]);
    const outcome = await reconcilePolicy("agents/p", { ...context, namespaceSynced: () => false });
    expect(outcome.done).toBe(false);
    expect(client.writes).toEqual([]);
  });

  it("publishes the policy's conditions as metrics and forgets them when the policy goes", async () => {
    const { context, metrics, policyStore } = setUp([policyObject("agents", "p", { selector })]);
    await reconcilePolicy("agents/p", context);
    expect(await metrics.registry.getSingleMetricAsString("mcpwarden_operator_policy_condition")).toContain('mcpwarden_operator_policy_condition{namespace="agents",policy="p",type="Programmed"} 1');
    policyStore.remove(policyObject("agents", "p", { selector }));
    await reconcilePolicy("agents/p", context);
    expect(await metrics.registry.getSingleMetricAsString("mcpwarden_operator_policy_condition")).not.toContain('policy="p"');
  });
});
