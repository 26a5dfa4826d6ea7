// Last of the files that share the release: `helm uninstall` removes the operator and its
// webhooks but leaves the CRDs and every McpPolicy (helm.sh/resource-policy: keep).
import { expect, it } from "vitest";
import { describeE2e, eventually, helmOk, kubectl, kubectlJson } from "./e2e-cluster.ts";

describeE2e("helm uninstall", () => {
  it("removes the operator and webhooks and leaves the CRDs and the policies", async () => {
    const before = await kubectlJson<{ items: { metadata: { namespace: string; name: string } }[] }>(["get", "mcppolicies", "-A"]);
    expect(before.items.length).toBeGreaterThan(0);
    await helmOk(["uninstall", "mcp-warden", "-n", "mcp-warden", "--wait", "--timeout=5m"]);
    await eventually("the operator gone", async () => ((await kubectl(["-n", "mcp-warden", "get", "deployment", "mcp-warden-operator"])).code !== 0 ? true : undefined));
    const webhooks = await kubectlJson<{ items: { metadata: { name: string } }[] }>(["get", "mutatingwebhookconfigurations"]);
    expect(webhooks.items.map((item) => item.metadata.name).filter((name) => name.startsWith("mcp-warden"))).toEqual([]);
    for (const crd of ["mcppolicies.mcpwarden.dev", "mcpapprovals.mcpwarden.dev"]) expect((await kubectl(["get", "crd", crd])).code, crd).toBe(0);
    const after = await kubectlJson<{ items: { metadata: { namespace: string; name: string } }[] }>(["get", "mcppolicies", "-A"]);
    expect(after.items.map((item) => `${item.metadata.namespace}/${item.metadata.name}`).sort()).toEqual(before.items.map((item) => `${item.metadata.namespace}/${item.metadata.name}`).sort());
  });
});
