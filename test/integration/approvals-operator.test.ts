// Approvals through the operator, end to end: real `mcp-warden sidecar` processes with
// pod-bound tokens in front of a real MCP server (its recorder proves what reached it),
// the operator as a process under its ClusterRole filing McpApprovals in the real API
// server and pushing verdicts on the policy stream, the McpApproval webhooks deciding who
// may decide, and people deciding with `kubectl mcpwarden` under their own credentials.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request as httpsRequest } from "node:https";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createNamespace, kubeconfigFor, kubectlOk } from "../harness/index.ts";
import { calledTools, startFeatureHttpServer, type FeatureHttpServer } from "../support/mcp-feature-server.ts";
import {
  api,
  applyPolicy,
  connectStream,
  createServiceAccount,
  eventually,
  httpGet,
  installKubectlPlugin,
  metricValue,
  operatorEnvironment,
  podToken,
  readLog,
  registerApprovalWebhooks,
  registerInjectionWebhook,
  runKubectlPlugin,
  startOperator,
  startPodSidecar,
  type OperatorEnvironment,
  type OperatorProcess,
  type PodSidecar,
  type SimulatedSidecar,
} from "./operator-fixture.ts";

interface ApprovalJson {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string; uid: string }[] };
  spec: { pod: string; policy: string; tool: string; argumentDigest: string; preview: string; caller: string; requestedAt: string; expiresAt: string; decision?: { verdict: string; decidedBy?: string } };
  status?: { phase?: string; decidedBy?: string; decidedAt?: string };
}

type Sidecar = PodSidecar;

const TTL_SECONDS = 4;
const labels = { app: "agent" };

let env: OperatorEnvironment;
let operator: OperatorProcess;
let namespace: string;
let upstream: FeatureHttpServer;
let plugins: string;
/** agent-0: holds calls up to the default 50 s. agent-1: holds for 1 s (the retry path). */
let first: Sidecar;
let second: Sidecar;
/** A second stream of agent-1, recording every event the operator sends that pod. */
let watcher: SimulatedSidecar;
const cleanups: (() => Promise<unknown>)[] = [];
const kubeconfigs: Record<string, string> = {};

// The caller is who the policy's identity says: here the trusted x-agent-id header.
const startSidecar = (name: string, extraArgs: string[]): Promise<Sidecar> =>
  startPodSidecar(env, operator, { namespace, name, labels, serviceAccount: "agent", upstreamUrl: upstream.url, extraArgs, headers: { "x-agent-id": "alice" } }, cleanups);

/** `kubectl mcpwarden ...` as `user`. */
const plugin = (user: string, ...args: string[]) => runKubectlPlugin(plugins, kubeconfigs[user], args);

async function approvals(): Promise<ApprovalJson[]> {
  return (await api<{ items: ApprovalJson[] }>("GET", `/apis/mcpwarden.dev/v1alpha1/namespaces/${namespace}/mcpapprovals`)).body.items;
}

async function readApproval(name: string): Promise<ApprovalJson | undefined> {
  const response = await api<ApprovalJson>("GET", `/apis/mcpwarden.dev/v1alpha1/namespaces/${namespace}/mcpapprovals/${name}`);
  return response.status === 200 ? response.body : undefined;
}

/** Every approval the tests have met, by the pod that asked. */
const filedBy: Record<string, string[]> = { "agent-0": [], "agent-1": [] };

/** The approval the sidecar of `pod` filed for `tool` that no test has met yet. */
async function newApproval(pod: string, tool: string): Promise<ApprovalJson> {
  const known = Object.values(filedBy).flat();
  const found = await eventually(`an McpApproval for ${tool} from ${pod}`, async () => (await approvals()).find((a) => a.spec.pod === pod && a.spec.tool === tool && !known.includes(a.metadata.name)), 30_000);
  filedBy[pod]?.push(found.metadata.name);
  return found;
}

const text = (result: unknown): string => ((result as CallToolResult).content[0] as { text: string }).text;
const upstreamCalls = (tool: string): number => calledTools(upstream.received).filter((name) => name === tool).length;
const approvalEvents = (): { name: string; verdict: string }[] => watcher.events.filter((e) => e.event === "approval").map((e) => JSON.parse(e.data) as { name: string; verdict: string });

beforeAll(async () => {
  upstream = await startFeatureHttpServer();
  cleanups.push(() => upstream.close());
  env = await operatorEnvironment("approvals-e2e");
  operator = await startOperator(env, { identity: "approvals-e2e-0", extraArgs: [`--approval-ttl=${TTL_SECONDS}`] });
  namespace = await createNamespace("approvals-e2e", { "mcpwarden.dev/inject": "enabled" });
  cleanups.push(await registerInjectionWebhook(env, "mcp-warden-injector-approvals-e2e", operator.webhookPort));
  cleanups.push(await registerApprovalWebhooks(env, "mcp-warden-approvals-e2e", operator.webhookPort, namespace));
  await createServiceAccount(namespace, "agent");

  // bob may decide; alice (the agent's caller) and the pods' ServiceAccount are granted
  // the same on purpose: only the webhook stands in their way. mallory has no rights.
  const role = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "approvers", namespace }, rules: [{ apiGroups: ["mcpwarden.dev"], resources: ["mcpapprovals"], verbs: ["get", "list", "watch", "patch"] }] };
  const binding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "approvers", namespace },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "approvers" },
    subjects: [...["bob", "alice"].map((name) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "User", name })), { kind: "ServiceAccount", name: "agent", namespace }],
  };
  for (const object of [role, binding]) await kubectlOk(["apply", "--server-side", "--field-manager=mcp-warden-tests", "-f", "-"], { input: JSON.stringify(object) });
  for (const user of ["bob", "alice", "mallory"]) kubeconfigs[user] = await kubeconfigFor(user);
  kubeconfigs["agent"] = await kubeconfigFor(`system:serviceaccount:${namespace}:agent`, ["system:serviceaccounts", `system:serviceaccounts:${namespace}`]);
  plugins = installKubectlPlugin();

  await applyPolicy(namespace, "deploys", {
    selector: { matchLabels: labels },
    default: "allow",
    identity: { source: "header", header: "x-agent-id" },
    tools: { deploy: { action: "approve", approval: { timeout: "60s" } }, delete_all: { action: "approve", approval: { timeout: "3s" } } },
  });
  first = await startSidecar("agent-0", []);
  second = await startSidecar("agent-1", ["--approval-hold=1"]);
  watcher = await connectStream(operator.streamUrl, await podToken(namespace, "agent", second.pod.metadata), env.caPem);
  cleanups.push(async () => watcher.close());
}, 180_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  const log = operator === undefined ? "" : readLog(operator.process, 2000);
  await operator?.stop();
  expect(log).not.toMatch(/forbidden/i);
});

describe("approvals through the operator (McpApproval, policy stream, kubectl mcpwarden)", () => {
  let approvedName: string;
  /** agent-1's approval for other arguments, left pending by the retry test. */
  let pendingOfAgent1: string;

  it("approve: the call waits as an McpApproval; the caller, the pod's ServiceAccount and a user without rights cannot decide; bob can, and the call runs once", async () => {
    const before = upstreamCalls("deploy");
    const held = first.client.callTool({ name: "deploy", arguments: { target: "prod", apiKey: "do-not-show" } });
    const asked = await newApproval("agent-0", "deploy");
    approvedName = asked.metadata.name;
    expect(asked.spec).toMatchObject({ pod: "agent-0", policy: `${namespace}/deploys`, tool: "deploy", caller: "alice" });
    expect(JSON.parse(asked.spec.preview)).toEqual({ target: "prod", apiKey: "***" });
    expect(asked.spec.argumentDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(asked.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "Pod", name: "agent-0", uid: first.pod.metadata.uid })]);
    await eventually("status Pending", async () => ((await readApproval(asked.metadata.name))?.status?.phase === "Pending" ? true : undefined));

    const listed = await plugin("bob", "approvals", "-n", namespace);
    expect(listed.stdout).toMatch(new RegExp(`^${namespace}\\s+${asked.metadata.name}\\s+Pending\\s+deploy\\s+alice\\s+agent-0\\s`, "m"));

    const self = await plugin("alice", "approve", `${namespace}/${asked.metadata.name}`);
    expect(self.code).not.toBe(0);
    expect(self.stderr).toContain("alice is the caller of this tool call and cannot decide its own approval");
    const serviceAccount = await plugin("agent", "approve", `${namespace}/${asked.metadata.name}`);
    expect(serviceAccount.code).not.toBe(0);
    expect(serviceAccount.stderr).toContain(`system:serviceaccount:${namespace}:agent is the ServiceAccount of pod agent-0`);
    const mallory = await plugin("mallory", "approve", `${namespace}/${asked.metadata.name}`);
    expect(mallory.code).not.toBe(0);
    expect(mallory.stderr).toMatch(/forbidden/);
    expect(upstreamCalls("deploy")).toBe(before);

    const approved = await plugin("bob", "approve", `${namespace}/${asked.metadata.name}`);
    expect(approved.stdout).toBe(`mcpapproval ${namespace}/${asked.metadata.name} approved (recorded decider: bob)\n`);
    const result = await held;
    expect(result.isError).toBeFalsy();
    expect(text(result)).toContain("deploy ran with");
    expect(upstreamCalls("deploy")).toBe(before + 1);

    const settled = await eventually("status Approved", async () => {
      const approval = await readApproval(asked.metadata.name);
      return approval?.status?.phase === "Approved" ? approval : undefined;
    });
    expect(settled.status).toMatchObject({ phase: "Approved", decidedBy: "bob" });
    expect(Date.parse(settled.status?.decidedAt ?? "")).not.toBeNaN();
    const metrics = (await httpGet(`${first.admin}/metrics`)).body;
    expect(metricValue(metrics, "mcpwarden_approvals_total", '{tool="deploy",outcome="approved"}')).toBe(1);
    expect(metricValue(metrics, "mcpwarden_approvals_pending")).toBe(0);
  });

  it("deny: the agent reads who denied it and why; the server never sees the call", async () => {
    const before = upstreamCalls("deploy");
    const held = first.client.callTool({ name: "deploy", arguments: { target: "prod", attempt: 2 } });
    const asked = await newApproval("agent-0", "deploy");
    const denied = await plugin("bob", "deny", `${namespace}/${asked.metadata.name}`, "--reason", "not during the freeze");
    expect(denied.code, denied.stderr).toBe(0);
    const result = await held;
    expect(result.isError).toBe(true);
    expect(text(result)).toContain(`approval ${asked.metadata.name} was denied by bob: not during the freeze`);
    expect(upstreamCalls("deploy")).toBe(before);
    await eventually("status Denied", async () => ((await readApproval(asked.metadata.name))?.status?.phase === "Denied" ? true : undefined));
  });

  it("expiry is a deny: the call is refused, status says Expired, and a late approval is refused", async () => {
    const before = upstreamCalls("delete_all");
    const result = await first.client.callTool({ name: "delete_all", arguments: { target: "everything" } });
    expect(result.isError).toBe(true);
    const asked = await newApproval("agent-0", "delete_all");
    expect(text(result)).toContain(`approval ${asked.metadata.name} expired without a decision`);
    await eventually("status Expired", async () => ((await readApproval(asked.metadata.name))?.status?.phase === "Expired" ? true : undefined));
    const late = await plugin("bob", "approve", `${namespace}/${asked.metadata.name}`);
    expect(late.code).not.toBe(0);
    expect(late.stderr).toContain("expiry is a deny");
    expect(upstreamCalls("delete_all")).toBe(before);
    expect(metricValue((await httpGet(`${first.admin}/metrics`)).body, "mcpwarden_approvals_total", '{tool="delete_all",outcome="expired"}')).toBe(1);
  });

  it("after the hold runs out, the identical retry passes once; other arguments need their own approval", async () => {
    const before = upstreamCalls("deploy");
    const firstTry = await second.client.callTool({ name: "deploy", arguments: { target: "staging" } });
    expect(firstTry.isError).toBe(true);
    const asked = await newApproval("agent-1", "deploy");
    expect(text(firstTry)).toContain(`approval ${asked.metadata.name} is still pending after 1 s`);

    const other = await second.client.callTool({ name: "deploy", arguments: { target: "prod" } });
    expect(other.isError).toBe(true);
    expect(text(other)).not.toContain(asked.metadata.name);
    const otherApproval = await newApproval("agent-1", "deploy");
    pendingOfAgent1 = otherApproval.metadata.name;

    expect((await plugin("bob", "approve", `${namespace}/${asked.metadata.name}`)).code).toBe(0);
    await eventually("the verdict to reach agent-1", async () => (approvalEvents().some((e) => e.name === asked.metadata.name) ? true : undefined));
    const retry = await second.client.callTool({ name: "deploy", arguments: { target: "staging" } });
    expect(retry.isError, text(retry)).toBeFalsy();
    expect(text(retry)).toContain("deploy ran with");
    const otherRetry = await second.client.callTool({ name: "deploy", arguments: { target: "prod" } });
    expect(otherRetry.isError).toBe(true);
    expect(text(otherRetry)).toContain(otherApproval.metadata.name);

    // One approval, one call: the same call again asks anew.
    const again = await second.client.callTool({ name: "deploy", arguments: { target: "staging" } });
    expect(again.isError).toBe(true);
    expect(text(again)).not.toContain(asked.metadata.name);
    expect(upstreamCalls("deploy")).toBe(before + 1);
  });

  it("a double approval racing expiry: the server sees the call at most once", async () => {
    const before = upstreamCalls("delete_all");
    const held = first.client.callTool({ name: "delete_all", arguments: { target: "race" } });
    const asked = await newApproval("agent-0", "delete_all");
    // Three decisions sent together in the last moments before expiry (or just after).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(asked.spec.expiresAt) - Date.now() - 40)));
    const path = `/apis/mcpwarden.dev/v1alpha1/namespaces/${namespace}/mcpapprovals/${asked.metadata.name}`;
    await Promise.all([0, 1, 2].map(() => api("PATCH", path, { spec: { decision: { verdict: "approve" } } }, "application/merge-patch+json")));
    const result = await held;
    const retry = await first.client.callTool({ name: "delete_all", arguments: { target: "race" } });
    const passed = [result, retry].filter((r) => r.isError !== true).length;
    expect(passed).toBeLessThanOrEqual(1);
    expect(upstreamCalls("delete_all") - before).toBe(passed);
  });

  it("a sidecar never sees approvals for another pod, and cannot ask in another pod's name", async () => {
    // Decide agent-1's pending approval now, so a new stream has a verdict to be sent again.
    expect((await plugin("bob", "deny", `${namespace}/${pendingOfAgent1}`)).code).toBe(0);
    await eventually("the verdict to reach agent-1", async () => (approvalEvents().some((e) => e.name === pendingOfAgent1) ? true : undefined));
    const mine = new Set(filedBy["agent-1"]);
    expect(filedBy["agent-0"]?.length).toBeGreaterThan(2);
    const seen = approvalEvents().map((e) => e.name);
    expect(seen.filter((name) => !mine.has(name))).toEqual([]);
    // A new stream is sent the pod's own verdicts again, and only those.
    const again = await connectStream(operator.streamUrl, await podToken(namespace, "agent", second.pod.metadata), env.caPem);
    await eventually("agent-1's verdicts on a new stream", async () => (again.events.some((e) => e.event === "approval" && e.data.includes(pendingOfAgent1)) ? true : undefined));
    again.close();
    const resent = again.events.filter((e) => e.event === "approval").map((e) => (JSON.parse(e.data) as { name: string }).name);
    expect(resent.filter((name) => !mine.has(name))).toEqual([]);

    // The pod is whoever the token is bound to: a body naming another pod is refused.
    const forged = await postJson("/v1/approvals", await podToken(namespace, "agent", second.pod.metadata), {
      pod: "agent-0",
      policy: `${namespace}/deploys`,
      rule: "",
      tool: "deploy",
      argumentDigest: "c".repeat(64),
      preview: "{}",
      caller: "alice",
      requestedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(forged).toEqual({ status: 400, body: { error: "pod: unknown field" } });
  });

  it(`deletes decided and expired approvals after the TTL (--approval-ttl=${TTL_SECONDS})`, async () => {
    await eventually("the approved approval to be deleted", async () => ((await readApproval(approvedName)) === undefined ? true : undefined), 30_000);
    await eventually("every decided approval to be deleted", async () => ((await approvals()).every((a) => a.status?.phase === "Pending" || a.status?.phase === undefined) ? true : undefined), 30_000);
  });
});

function postJson(path: string, token: string, body: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(`${operator.streamUrl}${path}`, { method: "POST", ca: env.caPem, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    request.on("error", reject);
    request.end(JSON.stringify(body));
  });
}
