// The McpApproval admission webhooks against the real API server, served by the operator
// (a process under its own ClusterRole): who decided is the authenticated user, whatever
// the client writes; the caller itself and the pod's ServiceAccount cannot decide; a user
// RBAC does not allow to patch McpApprovals cannot decide; a decision is made once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmodSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { controlPlane, createNamespace, kubeconfigFor, kubectl, kubectlOk, repoRoot, run } from "../harness/index.ts";
import {
  createPod,
  createServiceAccount,
  operatorEnvironment,
  podManifest,
  readLog,
  registerApprovalWebhooks,
  registerInjectionWebhook,
  startOperator,
  type OperatorEnvironment,
  type OperatorProcess,
} from "./operator-fixture.ts";

let env: OperatorEnvironment;
let operator: OperatorProcess;
let namespace: string;
const cleanups: (() => Promise<unknown>)[] = [];
const kubeconfigs: Record<string, string> = {};

beforeAll(async () => {
  env = await operatorEnvironment("approvals");
  operator = await startOperator(env, { identity: "approvals-0" });
  const unregister = await registerInjectionWebhook(env, "mcp-warden-injector-approvals-test", operator.webhookPort);
  cleanups.push(unregister);
  namespace = await createNamespace("approvals-webhooks", { "mcpwarden.dev/inject": "enabled" });
  cleanups.push(await registerApprovalWebhooks(env, "mcp-warden-approvals-test", operator.webhookPort, namespace));

  await createServiceAccount(namespace, "agent");
  const created = await createPod(namespace, podManifest("agent-0", { serviceAccount: "agent", annotations: { "mcpwarden.dev/upstream-port": "8080" } }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);

  // People who may decide (bob, carol), the caller (alice, who may patch too), and the
  // pod's ServiceAccount (granted on purpose: only the webhook stands in its way).
  const role = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "approvers", namespace }, rules: [{ apiGroups: ["mcpwarden.dev"], resources: ["mcpapprovals"], verbs: ["get", "list", "watch", "patch", "update"] }] };
  const binding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "approvers", namespace },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "approvers" },
    subjects: [
      ...["bob", "carol", "alice"].map((name) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "User", name })),
      { kind: "ServiceAccount", name: "agent", namespace },
    ],
  };
  for (const object of [role, binding]) await kubectlOk(["apply", "--server-side", "--field-manager=mcp-warden-tests", "-f", "-"], { input: JSON.stringify(object) });
  for (const user of ["bob", "carol", "alice", "mallory"]) kubeconfigs[user] = await kubeconfigFor(user);
  kubeconfigs["agent"] = await kubeconfigFor(`system:serviceaccount:${namespace}:agent`, ["system:serviceaccounts", `system:serviceaccounts:${namespace}`]);
}, 120_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  const log = operator ? readLog(operator.process, 400) : "";
  await operator?.stop();
  expect(log).not.toMatch(/forbidden/i);
});

async function createApproval(name: string): Promise<void> {
  const approval = {
    apiVersion: "mcpwarden.dev/v1alpha1",
    kind: "McpApproval",
    metadata: { name, namespace },
    spec: {
      pod: "agent-0",
      policy: `${namespace}/deploys`,
      rule: 'tools["deploy"]',
      tool: "deploy",
      argumentDigest: "b".repeat(64),
      preview: '{"target":"prod"}',
      caller: "alice",
      requestedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
    },
  };
  await kubectlOk(["create", "-f", "-"], { input: JSON.stringify(approval) });
}

function decide(user: string, name: string, decision: object): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(["patch", "mcpapproval", name, "--type=merge", "-p", JSON.stringify({ spec: { decision } })], { namespace, kubeconfig: kubeconfigs[user]! });
}

async function decidedBy(name: string): Promise<unknown> {
  const object = JSON.parse(await kubectlOk(["get", "mcpapproval", name, "-o", "json"], { namespace })) as { spec: { decision?: { decidedBy?: string } } };
  return object.spec.decision?.decidedBy;
}

describe("McpApproval admission webhooks (operator process, real API server)", () => {
  it("records the authenticated user as the decider, not the name the client wrote; a second decision is refused", async () => {
    await createApproval("deploy-a");
    const approved = await decide("bob", "deploy-a", { verdict: "approve", decidedBy: "the-ceo" });
    expect(approved.code, approved.stderr).toBe(0);
    expect(await decidedBy("deploy-a")).toBe("bob");
    const second = await decide("carol", "deploy-a", { verdict: "deny", reason: "too late" });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/already decided/);
  });

  it("refuses the caller deciding its own call", async () => {
    await createApproval("deploy-b");
    const self = await decide("alice", "deploy-b", { verdict: "approve" });
    expect(self.code).not.toBe(0);
    expect(self.stderr).toContain("alice is the caller of this tool call and cannot decide its own approval");
    expect(await decidedBy("deploy-b")).toBeUndefined();
  });

  it("refuses the ServiceAccount of the pod that holds the call", async () => {
    await createApproval("deploy-c");
    // The operator learns of the pod from its watch: until then it refuses as "not known".
    let result = await decide("agent", "deploy-c", { verdict: "approve" });
    for (let i = 0; i < 50 && result.stderr.includes("is not known to the operator"); i++) {
      await new Promise((r) => setTimeout(r, 200));
      result = await decide("agent", "deploy-c", { verdict: "approve" });
    }
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`system:serviceaccount:${namespace}:agent is the ServiceAccount of pod agent-0`);
  });

  it("kubectl mcpwarden (the plugin, found by kubectl on PATH) lists, approves as the user and shows policy status", async () => {
    const plugins = mkdtempSync(join(tmpdir(), "kubectl-plugins-"));
    const script = join(repoRoot(), "dist", "cli", "kubectl-mcpwarden.js");
    chmodSync(script, 0o755);
    symlinkSync(script, join(plugins, "kubectl-mcpwarden"));
    const pluginEnv = (user: string): NodeJS.ProcessEnv => ({
      ...process.env,
      PATH: [plugins, dirname(controlPlane().kubectl), dirname(process.execPath), process.env["PATH"] ?? ""].join(":"),
      KUBECONFIG: kubeconfigs[user] ?? controlPlane().kubeconfig,
    });
    const plugin = (user: string, ...args: string[]) => run(controlPlane().kubectl, ["mcpwarden", ...args], { env: pluginEnv(user) });

    await createApproval("deploy-e");
    const listed = await plugin("admin", "approvals", "-n", namespace);
    expect(listed.stderr).toBe("");
    expect(listed.stdout).toMatch(/^NAMESPACE\s+NAME\s+PHASE\s+TOOL\s+CALLER\s+POD\s+AGE\s+EXPIRES IN\s+DECIDED BY$/m);
    expect(listed.stdout).toMatch(new RegExp(`^${namespace}\\s+deploy-e\\s+Pending\\s+deploy\\s+alice\\s+agent-0\\s+\\d+s\\s+\\d+m`, "m"));
    expect(listed.stdout).not.toMatch(/deploy-a/); // decided: not pending

    const approved = await plugin("bob", "approve", `${namespace}/deploy-e`, "--reason", "looks fine");
    expect(approved.stdout).toBe(`mcpapproval ${namespace}/deploy-e approved (recorded decider: bob)\n`);
    const all = JSON.parse((await plugin("admin", "approvals", "-A", "-o", "json")).stdout) as { items: { metadata: { name: string }; spec: { decision?: { reason?: string } } }[] };
    expect(all.items.find((item) => item.metadata.name === "deploy-e")?.spec.decision?.reason).toBe("looks fine");
    const refused = await plugin("mallory", "deny", `${namespace}/deploy-e`);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/forbidden/);
    expect((await plugin("bob", "approve", "deploy-e")).stderr).toContain("give the approval as NAMESPACE/NAME");

    await kubectlOk(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpPolicy", metadata: { name: "deploys", namespace }, spec: { selector: {}, tools: { deploy: { action: "approve", approval: { timeout: "10m" } } } } }) });
    let status = "";
    for (let i = 0; i < 100 && !/deploys\s+True/.test(status); i++) {
      status = (await plugin("admin", "status", "-n", namespace)).stdout;
      if (!/deploys\s+True/.test(status)) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toMatch(/^NAMESPACE\s+NAME\s+ACCEPTED\s+PROGRAMMED\s+PODS\s+IN-SYNC\s+UNPROTECTED$/m);
    expect(status).toMatch(new RegExp(`^${namespace}\\s+deploys\\s+True\\s+\\S+\\s+1\\s+\\d+\\s+0$`, "m"));
  });

  it("a user RBAC does not allow to patch McpApprovals cannot decide", async () => {
    await createApproval("deploy-d");
    const refused = await decide("mallory", "deploy-d", { verdict: "approve" });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/forbidden.*User "mallory" cannot (get|patch)/);
    expect(await decidedBy("deploy-d")).toBeUndefined();
  });
});
