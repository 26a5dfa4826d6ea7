// A policy on running pods: `kubectl apply` → Programmed with every pod in sync, and a real
// MCP SDK client through the Service sees the filtered tools/list, an allowed call, a denied
// call that never reached the server, an argument refusal and a rate-limit refusal; an edit
// of the policy is enforced (polled for; the delay is measured by `make bench`, not here).
import { afterAll, beforeAll, expect, it } from "vitest";
import { callsThatReachedServer, callTool, createNamespace, describeE2e, eventually, kubectlJson, kubectlOk, mcpClient, serviceUrl, stopPortForwards } from "./e2e-cluster.ts";
import { demoPolicy, demoSelector, deployDemoServer } from "./demo-workload.ts";

interface Policy {
  metadata: { generation: number };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string; observedGeneration?: number }[]; targets?: { pods: number; inSync: number; unprotected: number } };
}

let namespace = "";
let url = "";

const programmed = async (generation?: number): Promise<Policy | undefined> => {
  const policy = await kubectlJson<Policy>(["-n", namespace, "get", "mcppolicy", "demo"]);
  const condition = policy.status?.conditions?.find((c) => c.type === "Programmed");
  const current = generation === undefined || (condition?.observedGeneration ?? policy.status?.observedGeneration) === generation;
  return condition?.status === "True" && current ? policy : undefined;
};

describeE2e("an McpPolicy on running pods", () => {
  beforeAll(async () => {
    namespace = await createNamespace("e2e-policy");
    await deployDemoServer(namespace);
    await kubectlOk(["apply", "-f", "-"], { input: demoPolicy(namespace) });
    url = `${await serviceUrl(namespace, "demo-server")}/mcp`;
  });
  afterAll(() => stopPortForwards());

  it("becomes Programmed with status.targets.inSync equal to the selected pods", async () => {
    const policy = await eventually("the policy to be Programmed", () => programmed());
    expect(policy.status?.targets).toEqual({ pods: 1, inSync: 1, unprotected: 0 });
    const pods = await kubectlJson<{ items: { metadata: { annotations?: Record<string, string> } }[] }>(["-n", namespace, "get", "pods", "-l", demoSelector]);
    const revisions = new Set(pods.items.map((pod) => pod.metadata.annotations?.["mcpwarden.dev/applied-revision"]));
    expect(revisions.size).toBe(1);
    expect([...revisions][0]).toBeTruthy();
  });

  it("is enforced for an MCP SDK client through the Service: filtered list, allow, deny, arguments, rate limit", async () => {
    const { client, close } = await mcpClient(url);
    try {
      const listed = (await client.listTools()).tools.map((tool) => tool.name).sort();
      expect(listed).toEqual(["get_run_logs", "list_runs", "reset_mock_data", "run_test_iteration"]);

      const allowed = await callTool(client, "list_runs");
      expect(allowed.isError).toBe(false);

      const denied = await callTool(client, "deploy_mock_api", { version: "9.9.9" });
      expect(denied.isError).toBe(true);
      expect(denied.decision).toMatchObject({ decision: "deny", rule: "default" });
      expect(denied.decision?.policy).toBe(`${namespace}/demo`);

      const invalid = await callTool(client, "get_run_logs", { run_id: "../etc/passwd" });
      expect(invalid.decision).toMatchObject({ decision: "invalid_arguments", rule: 'tools["get_run_logs"]' });

      const outcomes = [];
      for (let i = 0; i < 11; i++) outcomes.push(await callTool(client, "run_test_iteration", { scenario: "smoke" }));
      expect(outcomes.slice(0, 10).every((outcome) => !outcome.isError)).toBe(true);
      expect(outcomes[10]?.decision).toMatchObject({ decision: "rate_limited", rule: 'tools["run_test_iteration"].limits[0]' });
      expect(outcomes[10]?.decision?.retryAfterSeconds).toBeGreaterThan(0);
    } finally {
      await close();
    }
    // The refusals were written by the sidecar: the server saw only the allowed calls.
    const reached = await callsThatReachedServer(namespace, demoSelector);
    expect(reached.filter((tool) => tool === "deploy_mock_api" || tool === "get_run_logs")).toEqual([]);
    expect(reached.filter((tool) => tool === "run_test_iteration")).toHaveLength(10);
    expect(reached).toContain("list_runs");
  });

  it("enforces an edit: a tool the edited policy allows passes once the sidecars have the new revision", async () => {
    await kubectlOk(["apply", "-f", "-"], { input: demoPolicy(namespace, (spec) => ((spec.tools as Record<string, unknown>).deploy_mock_api = {})) });
    const generation = (await kubectlJson<Policy>(["-n", namespace, "get", "mcppolicy", "demo"])).metadata.generation;
    await eventually("the edit to be Programmed", () => programmed(generation));
    await eventually("deploy_mock_api to be allowed", async () => {
      const { client, close } = await mcpClient(url);
      try {
        const outcome = await callTool(client, "deploy_mock_api", { version: "1.2.3" });
        return outcome.isError ? undefined : outcome;
      } finally {
        await close();
      }
    });
  });
});
