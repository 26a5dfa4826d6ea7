// Losing pods: with both operator replicas deleted the sidecars keep enforcing the last
// good policy, a new leader takes the Lease and re-syncs, and status converges; a deleted
// server pod's replacement is injected and in sync.
import { afterAll, beforeAll, expect, it } from "vitest";
import { callTool, createNamespace, describeE2e, eventually, kubectlJson, kubectlOk, mcpClient, metric, podUrl, serviceUrl, stopPortForwards } from "./e2e-cluster.ts";
import { demoPolicy, demoSelector, deployDemoServer } from "./demo-workload.ts";

interface Policy {
  metadata: { generation: number };
  status?: { conditions?: { type: string; status: string; observedGeneration?: number }[]; targets?: { pods: number; inSync: number; unprotected: number } };
}
interface Pod {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string };
  spec: { initContainers?: { name: string }[] };
  status: { phase: string };
}

let namespace = "";

async function policyInSync(generation: number, pods: number): Promise<Policy | undefined> {
  const policy = await kubectlJson<Policy>(["-n", namespace, "get", "mcppolicy", "demo"]);
  const condition = policy.status?.conditions?.find((c) => c.type === "Programmed");
  const targets = policy.status?.targets;
  return condition?.status === "True" && condition.observedGeneration === generation && targets?.pods === pods && targets.inSync === pods ? policy : undefined;
}

async function serverPods(): Promise<Pod[]> {
  return (await kubectlJson<{ items: Pod[] }>(["-n", namespace, "get", "pods", "-l", demoSelector])).items.filter((pod) => pod.metadata.deletionTimestamp === undefined);
}

async function enforcement(): Promise<{ listRuns: boolean; deployDenied: boolean }> {
  const { client, close } = await mcpClient(`${await serviceUrl(namespace, "demo-server")}/mcp`);
  try {
    const listRuns = !(await callTool(client, "list_runs")).isError;
    const deploy = await callTool(client, "deploy_mock_api", { version: "1" });
    return { listRuns, deployDenied: deploy.decision?.decision === "deny" };
  } finally {
    await close();
  }
}

describeE2e("failover", () => {
  beforeAll(async () => {
    namespace = await createNamespace("e2e-failover");
    await deployDemoServer(namespace);
    await kubectlOk(["apply", "-f", "-"], { input: demoPolicy(namespace) });
    const generation = (await kubectlJson<Policy>(["-n", namespace, "get", "mcppolicy", "demo"])).metadata.generation;
    await eventually("the policy in sync", () => policyInSync(generation, 1));
  });
  afterAll(() => stopPortForwards());

  it("keeps enforcing with the operator gone; a new leader re-syncs and status converges", async () => {
    const [pod] = await serverPods();
    const admin = await podUrl(namespace, pod!.metadata.name, 9464);
    expect(await metric(admin, /^mcpwarden_control_plane_connected /)).toBe(1);
    const oldOperators = (await kubectlJson<{ items: Pod[] }>(["-n", "mcp-warden", "get", "pods", "-l", "app.kubernetes.io/component=operator"])).items.map((p) => p.metadata.name);
    await kubectlOk(["-n", "mcp-warden", "delete", "pods", "-l", "app.kubernetes.io/component=operator", "--wait=true", "--timeout=120s"]);
    // The old replicas are gone and the new ones are still starting: the sidecar enforces the policy it had.
    expect(await enforcement()).toEqual({ listRuns: true, deployDenied: true });

    const leader = await eventually("a new leader", async () => {
      const lease = await kubectlJson<{ spec: { holderIdentity?: string } }>(["-n", "mcp-warden", "get", "lease", "mcp-warden-operator"]);
      const holder = lease.spec.holderIdentity;
      return holder && !oldOperators.includes(holder) ? holder : undefined;
    });
    expect(leader).toMatch(/^mcp-warden-operator-/);
    await eventually("the sidecar to reconnect", async () => ((await metric(admin, /^mcpwarden_control_plane_connected /)) === 1 ? true : undefined));

    // The new leader writes status for a new generation once the sidecar has applied it.
    await kubectlOk(["apply", "-f", "-"], { input: demoPolicy(namespace, (spec) => ((spec.tools as Record<string, unknown>).deploy_mock_api = { action: "deny", reason: "not from agents" })) });
    const generation = (await kubectlJson<Policy>(["-n", namespace, "get", "mcppolicy", "demo"])).metadata.generation;
    const policy = await eventually("status to converge under the new leader", () => policyInSync(generation, 1));
    expect(policy.status?.targets).toEqual({ pods: 1, inSync: 1, unprotected: 0 });
    expect(await enforcement()).toEqual({ listRuns: true, deployDenied: true });
  });

  it("injects a deleted server pod's replacement, which gets in sync", async () => {
    const [old] = await serverPods();
    await kubectlOk(["-n", namespace, "delete", "pod", old!.metadata.name, "--wait=false"]);
    const replacement = await eventually("a Running replacement", async () => {
      const pods = await serverPods();
      const fresh = pods.find((pod) => pod.metadata.name !== old!.metadata.name && pod.status.phase === "Running");
      return fresh;
    });
    expect(replacement.metadata.labels?.["mcpwarden.dev/injected"]).toBe("true");
    expect(replacement.spec.initContainers?.map((container) => container.name)).toContain("mcp-warden");
    const generation = (await kubectlJson<Policy>(["-n", namespace, "get", "mcppolicy", "demo"])).metadata.generation;
    await eventually("the replacement in sync", () => policyInSync(generation, 1));
    const revision = await eventually("the replacement's applied revision", async () => (await serverPods()).find((pod) => pod.metadata.name === replacement.metadata.name)?.metadata.annotations?.["mcpwarden.dev/applied-revision"]);
    expect(revision).toBeTruthy();
    expect(await enforcement()).toEqual({ listRuns: true, deployDenied: true });
  });
});
