// An approval end to end on running pods: the agent's call to a tool with `action:
// approve` is held as an McpApproval; `kubectl mcpwarden approve` as the pod's own
// ServiceAccount is refused; as a user bound to mcpwarden-approver it is recorded with
// that user as decider, and the held call runs — once.
import { afterAll, beforeAll, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { load, dump } from "js-yaml";
import { callsThatReachedServer, callTool, createNamespace, describeE2e, e2e, eventually, kubectlJson, kubectlOk, mcpClient, repoRoot, run, serviceUrl, stopPortForwards } from "./e2e-cluster.ts";
import { demoPolicy, demoSelector, deployDemoServer } from "./demo-workload.ts";

interface Approval {
  metadata: { name: string };
  spec: { tool: string; pod: string; decision?: { decidedBy?: string } };
  status?: { phase?: string };
}

let namespace = "";

/** The suite's kubeconfig acting as `user` (kubectl's impersonation), for the plugin. */
function kubeconfigAs(user: string, groups: string[]): string {
  const config = load(readFileSync(e2e().kubeconfig, "utf8")) as { users: { user: Record<string, unknown> }[] };
  for (const entry of config.users) Object.assign(entry.user, { as: user, "as-groups": groups });
  const file = join(e2e().workDir, `as-${user.replace(/[^a-z0-9]/gi, "_")}.kubeconfig`);
  writeFileSync(file, dump(config), { mode: 0o600 });
  return file;
}

function plugin(kubeconfig: string, ...args: string[]): ReturnType<typeof run> {
  return run(process.execPath, [join(repoRoot(), "dist", "cli", "kubectl-mcpwarden.js"), ...args], { env: { ...process.env, KUBECONFIG: kubeconfig, MCPWARDEN_KUBECTL: e2e().kubectl } });
}

describeE2e("an approval on running pods", () => {
  beforeAll(async () => {
    namespace = await createNamespace("e2e-approval");
    await deployDemoServer(namespace);
    await kubectlOk(["apply", "-f", "-"], { input: demoPolicy(namespace) });
    await kubectlOk(["-n", namespace, "wait", "--for=condition=Programmed", "mcppolicy/demo", "--timeout=180s"]);
    // bob and, to show the webhook (not RBAC) refuses it, the pod's ServiceAccount may decide approvals here.
    await kubectlOk(["-n", namespace, "create", "rolebinding", "approvers", "--clusterrole=mcpwarden-approver", "--user=bob", `--serviceaccount=${namespace}:default`]);
  });
  afterAll(() => stopPortForwards());

  it("holds the call, refuses the pod's ServiceAccount, records bob, and runs the call once", async () => {
    const { client, close } = await mcpClient(`${await serviceUrl(namespace, "demo-server")}/mcp`);
    try {
      const held = callTool(client, "reset_mock_data", { dataset: "empty" });
      const approval = await eventually("a Pending McpApproval", async () => {
        const list = await kubectlJson<{ items: Approval[] }>(["-n", namespace, "get", "mcpapprovals"]);
        return list.items.find((item) => item.spec.tool === "reset_mock_data" && item.status?.phase === "Pending");
      });
      const pod = (await kubectlJson<{ items: { metadata: { name: string } }[] }>(["-n", namespace, "get", "pods", "-l", demoSelector])).items[0]!.metadata.name;
      expect(approval.spec.pod).toBe(pod);
      expect(await callsThatReachedServer(namespace, demoSelector)).not.toContain("reset_mock_data");

      const serviceAccount = `system:serviceaccount:${namespace}:default`;
      const refused = await plugin(kubeconfigAs(serviceAccount, ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"]), "approve", `${namespace}/${approval.metadata.name}`);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(`${serviceAccount} is the ServiceAccount of pod ${pod}`);

      const approved = await plugin(kubeconfigAs("bob", ["system:authenticated"]), "approve", `${namespace}/${approval.metadata.name}`);
      expect(approved.stderr).toBe("");
      expect(approved.stdout).toBe(`mcpapproval ${namespace}/${approval.metadata.name} approved (recorded decider: bob)\n`);
      const result = await held;
      expect(result.isError).toBe(false);
      expect(result.text).toContain("reset the mock API's data set to empty");
    } finally {
      await close();
    }
    expect((await callsThatReachedServer(namespace, demoSelector)).filter((tool) => tool === "reset_mock_data")).toHaveLength(1);
    const settled = await eventually("status Approved", async () => {
      const found = await kubectlJson<Approval>(["-n", namespace, "get", "mcpapproval", (await kubectlJson<{ items: Approval[] }>(["-n", namespace, "get", "mcpapprovals"])).items[0]!.metadata.name]);
      return found.status?.phase === "Approved" ? found : undefined;
    });
    expect(settled.spec.decision?.decidedBy).toBe("bob");
  });
});
