// The operator reconciling McpPolicies against the real kube-apiserver, as a process
// under its own ClusterRole: Accepted (with the reason and an Event when not),
// IdentityConflict, status.targets and Programmed, observedGeneration, Services that
// bypass the sidecar, the owned NetworkPolicy, and the admin port.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNamespace, kubectlOk } from "../harness/index.ts";
import {
  api,
  apiOk,
  applyPolicy,
  conditionOf,
  createPod,
  eventsFor,
  eventually,
  httpGet,
  metricValue,
  operatorEnvironment,
  podManifest,
  readLog,
  readPolicy,
  sleep,
  startOperator,
  type OperatorProcess,
  type PolicyJson,
} from "./operator-fixture.ts";

let operator: OperatorProcess;
let namespace: string;

beforeAll(async () => {
  const env = await operatorEnvironment("policies");
  operator = await startOperator(env, { identity: "policies-0" });
  namespace = await createNamespace("agents");
});

afterAll(async () => {
  const log = operator ? readLog(operator.process, 400) : "";
  await operator?.stop();
  // Everything above ran under the ClusterRole file alone: nothing may have been refused.
  expect(log).not.toMatch(/forbidden/i);
});

const selector = { matchLabels: { "app.kubernetes.io/name": "mockloop-mcp" } };
const selected = { "app.kubernetes.io/name": "mockloop-mcp" };

async function settled(name: string, check: (policy: PolicyJson) => boolean): Promise<PolicyJson> {
  return eventually(`${namespace}/${name} status`, async () => {
    const policy = await readPolicy(namespace, name);
    return policy.status?.observedGeneration === policy.metadata.generation && check(policy) ? policy : undefined;
  });
}

describe("mcp-warden operator: McpPolicy status", () => {
  it("accepts a valid policy; observedGeneration follows edits", async () => {
    await applyPolicy(namespace, "valid", { selector, tools: { list_runs: {} } });
    let policy = await settled("valid", (p) => conditionOf(p.status, "Accepted")?.status === "True");
    expect(conditionOf(policy.status, "Accepted")).toMatchObject({ status: "True", reason: "Accepted", observedGeneration: 1 });
    expect(conditionOf(policy.status, "Programmed")).toMatchObject({ status: "True", reason: "Programmed", message: "the selector matches no pods" });
    expect(policy.status?.targets).toEqual({ pods: 0, inSync: 0, unprotected: 0 });

    await applyPolicy(namespace, "valid", { selector, tools: { list_runs: {}, get_run_logs: {} } });
    policy = await settled("valid", () => true);
    expect(policy.metadata.generation).toBe(2);
    expect(conditionOf(policy.status, "Accepted")?.observedGeneration).toBe(2);

    // Status is written only when it changes: nothing changes now, so neither does the object.
    const before = (await apiOk<{ metadata: { resourceVersion: string } }>("GET", `/apis/mcpwarden.dev/v1alpha1/namespaces/${namespace}/mcppolicies/valid`)).metadata.resourceVersion;
    await sleep(2000);
    const after = (await apiOk<{ metadata: { resourceVersion: string } }>("GET", `/apis/mcpwarden.dev/v1alpha1/namespaces/${namespace}/mcppolicies/valid`)).metadata.resourceVersion;
    expect(after).toBe(before);
  });

  it("refuses a semantically bad policy with Accepted=False, the exact reason, and an Event that kubectl describe shows", async () => {
    // Structurally fine (the CRD accepts it), but the CEL does not compile.
    await applyPolicy(namespace, "bad-cel", { selector, tools: { run_test_iteration: { when: "args.target.startsWith(" } } });
    const policy = await settled("bad-cel", (p) => conditionOf(p.status, "Accepted")?.status === "False");
    const accepted = conditionOf(policy.status, "Accepted");
    expect(accepted?.reason).toBe("Invalid");
    expect(accepted?.message).toContain('spec.tools["run_test_iteration"].when');
    expect(conditionOf(policy.status, "Programmed")).toMatchObject({ status: "False", reason: "NotAccepted" });

    const events = await eventually("the Warning event", async () => {
      const found = await eventsFor(namespace, policy.metadata.uid);
      return found.length > 0 ? found : undefined;
    });
    expect(events[0]).toMatchObject({ type: "Warning", reason: "InvalidPolicy" });
    const described = await kubectlOk(["describe", "mcppolicy", "bad-cel"], { namespace });
    expect(described).toContain("InvalidPolicy");
    expect(described).toContain('spec.tools["run_test_iteration"].when');
  });

  it("counts a selected pod without a sidecar as unprotected, and gives the newer of two identities IdentityConflict naming the older", async () => {
    const pod = await createPod(namespace, podManifest("bare-server", { labels: selected, annotations: { "mcpwarden.dev/upstream-port": "8080" } }));
    expect(pod.status).toBe(201);

    await applyPolicy(namespace, "identity-header", { selector, identity: { source: "header", header: "x-agent-id" }, tools: { list_runs: {} } });
    await settled("identity-header", (p) => p.status?.targets?.pods === 1);
    await sleep(1100); // creationTimestamp has whole seconds: make "newer" unambiguous
    await applyPolicy(namespace, "identity-session", { selector, identity: { source: "session" }, tools: { get_run_logs: {} } });

    const newer = await settled("identity-session", (p) => conditionOf(p.status, "Programmed")?.reason === "IdentityConflict");
    expect(conditionOf(newer.status, "Programmed")?.status).toBe("False");
    expect(conditionOf(newer.status, "Programmed")?.message).toContain(`${namespace}/identity-header`);
    expect(conditionOf(newer.status, "Accepted")?.status).toBe("True");

    const older = await settled("identity-header", (p) => p.status?.targets?.unprotected === 1);
    expect(older.status?.targets).toEqual({ pods: 1, inSync: 0, unprotected: 1 });
    expect(conditionOf(older.status, "Programmed")).toMatchObject({ status: "False", reason: "Unprotected" });
    expect(conditionOf(older.status, "Programmed")?.message).toContain("bare-server");
  });

  it("warns with an Event when a Service selecting a protected pod targets the upstream port instead of mcp-warden", async () => {
    const space = await createNamespace("services");
    // A pod that carries the sidecar (the webhook's label; the webhook itself is tested elsewhere).
    expect((await createPod(space, podManifest("protected", { labels: { ...selected, "mcpwarden.dev/injected": "true" }, annotations: { "mcpwarden.dev/upstream-port": "http" } }))).status).toBe(201);
    const service = (direct: string, targetPort: number | string) => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: direct },
      spec: { selector: selected, ports: [{ name: "mcp", port: 80, targetPort }] },
    });
    const bypass = await apiOk<{ metadata: { uid: string } }>("POST", `/api/v1/namespaces/${space}/services`, service("bypass", 8080));
    const good = await apiOk<{ metadata: { uid: string } }>("POST", `/api/v1/namespaces/${space}/services`, service("through-sidecar", "mcp-warden"));
    await applyPolicy(space, "protect", { selector, tools: {} });

    const events = await eventually("the Service's warning", async () => {
      const found = await eventsFor(space, bypass.metadata.uid);
      return found.length > 0 ? found : undefined;
    });
    expect(events[0]).toMatchObject({ type: "Warning", reason: "TargetsUpstreamPort" });
    expect(events[0]?.note).toContain("targetPort: mcp-warden");
    expect(await eventsFor(space, good.metadata.uid)).toEqual([]);
    const described = await kubectlOk(["describe", "service", "bypass"], { namespace: space });
    expect(described).toContain("TargetsUpstreamPort");
  });

  it("owns a NetworkPolicy admitting only the sidecar's ports while spec.networkPolicy is enabled", async () => {
    const policy = await applyPolicy(namespace, "fenced", { selector, networkPolicy: "enabled", tools: {} });
    const path = `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies/mcpwarden-fenced`;
    const created = await eventually("the NetworkPolicy", async () => {
      const response = await api<{ metadata: { ownerReferences?: unknown[]; managedFields?: { manager: string; operation: string }[] }; spec: unknown }>("GET", path);
      return response.status === 200 ? response.body : undefined;
    });
    expect(created.metadata.ownerReferences).toEqual([{ apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpPolicy", name: "fenced", uid: policy.metadata.uid, controller: true }]);
    expect(created.metadata.managedFields?.some((field) => field.manager === "mcp-warden-operator" && field.operation === "Apply")).toBe(true);
    expect(created.spec).toMatchObject({
      podSelector: selector,
      policyTypes: ["Ingress"],
      ingress: [{ ports: [{ protocol: "TCP", port: "mcp-warden" }, { protocol: "TCP", port: "warden-admin" }] }],
    });

    await applyPolicy(namespace, "fenced", { selector, networkPolicy: "disabled", tools: {} });
    await eventually("the NetworkPolicy's removal", async () => ((await api("GET", path)).status === 404 ? true : undefined));
  });

  it("serves metrics, /healthz and /readyz on the admin port", async () => {
    const admin = `http://127.0.0.1:${operator.adminPort}`;
    expect((await httpGet(`${admin}/healthz`)).status).toBe(200);
    expect((await httpGet(`${admin}/readyz`)).status).toBe(200);
    const text = await operator.metrics();
    expect(metricValue(text, "mcpwarden_operator_reconcile_total", '{result="success"}')).toBeGreaterThan(0);
    expect(text).toContain("mcpwarden_operator_reconcile_duration_seconds_bucket");
    expect(metricValue(text, "mcpwarden_operator_policy_condition", `{namespace="${namespace}",policy="bad-cel",type="Accepted"}`)).toBe(0);
    expect(metricValue(text, "mcpwarden_operator_policy_condition", `{namespace="${namespace}",policy="valid",type="Accepted"}`)).toBe(1);
    expect(metricValue(text, "mcpwarden_operator_connected_sidecars")).toBe(0);
    expect(text).toContain("mcpwarden_operator_push_duration_seconds");
    expect(text).toContain('mcpwarden_webhook_injections_total{result="injected"}');
    expect(metricValue(text, "mcpwarden_operator_leader")).toBe(1);
  });
});
