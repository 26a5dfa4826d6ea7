// The policy stream end to end: the operator (two replicas, processes under their own
// ClusterRole) and a real `mcp-warden sidecar` process in front of a real MCP server,
// for a Pod that exists in the real API server (its IP set through the status
// subresource, its token from TokenRequest, bound to it). Enforcement follows edits,
// status tells the truth, a token for anyone else gets nothing, and killing the
// operator changes nothing in force until a restarted one re-syncs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importPKCS8, SignJWT } from "jose";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { controlPlane, createNamespace, repoRoot } from "../harness/index.ts";
import { freePort } from "../harness/free-port.ts";
import { ManagedProcess } from "../harness/managed-process.ts";
import {
  api,
  applyPolicy,
  conditionOf,
  connectStream,
  createPod,
  createServiceAccount,
  eventually,
  httpGet,
  metricValue,
  operatorEnvironment,
  podManifest,
  podToken,
  postAck,
  readLog,
  readPolicy,
  registerInjectionWebhook,
  setPodRunning,
  startOperator,
  type OperatorEnvironment,
  type OperatorProcess,
  type PodJson,
  type PolicyJson,
} from "./operator-fixture.ts";

let env: OperatorEnvironment;
let first: OperatorProcess;
let second: OperatorProcess;
const operators: OperatorProcess[] = [];
let unregister: (() => Promise<void>) | undefined;
let namespace: string;
let serviceAccountUid: string;
let sidecar: ManagedProcess | undefined;
let sidecarAdmin: string;
let mcp: Client | undefined;
let pod: PodJson;

const labels = { "app.kubernetes.io/name": "mockloop-mcp" };
const selector = { matchLabels: labels };
const annotations = { "mcpwarden.dev/upstream-port": "8080" };

function spec(tools: Record<string, unknown>): Record<string, unknown> {
  return { selector, default: "deny", tools };
}

async function leaderMetric(operator: OperatorProcess): Promise<number | undefined> {
  return metricValue(await operator.metrics(), "mcpwarden_operator_leader");
}

async function injectedRunningPod(name: string, ip: string): Promise<PodJson> {
  const created = await createPod(namespace, podManifest(name, { labels, annotations }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.body.metadata.labels?.["mcpwarden.dev/injected"]).toBe("true");
  await setPodRunning(namespace, name, ip);
  return created.body;
}

async function policySettled(check: (policy: PolicyJson) => boolean, timeoutMs = 60_000): Promise<PolicyJson> {
  return eventually(
    "the policy's status",
    async () => {
      const policy = await readPolicy(namespace, "mockloop");
      return policy.status?.observedGeneration === policy.metadata.generation && check(policy) ? policy : undefined;
    },
    timeoutMs,
  );
}

function programmed(policy: PolicyJson): boolean {
  return conditionOf(policy.status, "Programmed")?.status === "True";
}

const toolArguments: Record<string, Record<string, unknown>> = { get_run_logs: { run_id: "r-1" }, run_test_iteration: { scenario: "smoke" } };

/** The text of a tool call's result, and whether the sidecar refused it (its decision in _meta). */
async function call(tool: string): Promise<{ refused: boolean; text: string }> {
  const result = (await mcp!.callTool({ name: tool, arguments: toolArguments[tool] ?? {} })) as { _meta?: Record<string, unknown>; content?: { type: string; text?: string }[] };
  return { refused: result._meta?.["mcpwarden.dev/decision"] !== undefined, text: (result.content ?? []).map((part) => part.text ?? "").join(" ") };
}

beforeAll(async () => {
  env = await operatorEnvironment("stream");
  first = await startOperator(env, { identity: "stream-a" });
  operators.push(first);
  await eventually("stream-a to lead", async () => ((await leaderMetric(first)) === 1 ? true : undefined));
  second = await startOperator(env, { identity: "stream-b" });
  operators.push(second);
  namespace = await createNamespace("mcp", { "mcpwarden.dev/inject": "enabled" });
  unregister = await registerInjectionWebhook(env, "mcp-warden-injector-stream", first.webhookPort);
  serviceAccountUid = await createServiceAccount(namespace, "mcp-server");
  await applyPolicy(namespace, "mockloop", spec({ list_runs: {} }));
});

afterAll(async () => {
  await mcp?.close().catch(() => undefined);
  await sidecar?.stop();
  await unregister?.();
  const logs = operators.map((operator) => readLog(operator.process, 1000)).join("\n");
  for (const operator of operators) await operator.stop();
  expect(logs).not.toMatch(/forbidden/i);
});

describe("mcp-warden operator: the policy stream, end to end", () => {
  it("a real sidecar with a pod-bound token connects, enforces the policy on a real MCP server, and the policy is Programmed", async () => {
    pod = await injectedRunningPod("mockloop-0", "127.0.0.1");
    const dir = join(env.dir, "sidecar");
    mkdirSync(join(dir, "state"), { recursive: true });
    writeFileSync(join(dir, "token"), await podToken(namespace, "mcp-server", pod.metadata));
    const [listen, admin] = [await freePort(), await freePort()];
    sidecarAdmin = `http://127.0.0.1:${admin}`;
    const demoServer = join(repoRoot(), "examples", "demo", "demo-server.ts");
    sidecar = new ManagedProcess({
      name: "sidecar",
      command: process.execPath,
      args: [
        join(repoRoot(), "cli", "main.ts"),
        "sidecar",
        `--listen=127.0.0.1:${listen}`,
        `--admin=127.0.0.1:${admin}`,
        `--upstream-command=${process.execPath} ${demoServer}`,
        `--control-plane=${first.streamUrl}`,
        `--token-file=${join(dir, "token")}`,
        `--control-plane-ca=${env.caFile}`,
        `--state-dir=${join(dir, "state")}`,
      ],
      logFile: join(env.dir, "sidecar.log"),
    });
    await eventually(`the sidecar to be ready:\n${readLog(sidecar)}`, async () => ((await httpGet(`${sidecarAdmin}/readyz`)).status === 200 ? true : undefined), 60_000);

    mcp = new Client({ name: "operator-stream-test", version: "0" });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${listen}/mcp`)));
    expect((await mcp.listTools()).tools.map((tool) => tool.name)).toEqual(["list_runs"]);
    expect((await call("list_runs")).refused).toBe(false);
    const denied = await call("run_test_iteration");
    expect(denied.refused).toBe(true);
    expect(denied.text).toContain(`${namespace}/mockloop`);

    const policy = await policySettled((p) => p.status?.targets?.inSync === 1 && programmed(p));
    expect(policy.status?.targets).toEqual({ pods: 1, inSync: 1, unprotected: 0 });
    expect(conditionOf(policy.status, "Programmed")).toMatchObject({ status: "True", reason: "Programmed" });
    const applied = (await api<PodJson>("GET", `/api/v1/namespaces/${namespace}/pods/mockloop-0`)).body.metadata.annotations?.["mcpwarden.dev/applied-revision"];
    expect(applied).toMatch(/^[0-9a-f]{16}$/);
    expect(metricValue(await (await httpGet(`${sidecarAdmin}/metrics`)).body, "mcpwarden_control_plane_connected")).toBe(1);
  });

  it("editing the policy changes enforcement, and observedGeneration and inSync follow", async () => {
    await applyPolicy(namespace, "mockloop", spec({ list_runs: {}, run_test_iteration: {} }));
    await eventually("run_test_iteration to be allowed", async () => ((await call("run_test_iteration")).refused ? undefined : true));
    const policy = await policySettled((p) => p.status?.targets?.inSync === 1 && programmed(p));
    expect(policy.metadata.generation).toBe(2);
    expect(conditionOf(policy.status, "Accepted")?.observedGeneration).toBe(2);
  });

  it("gives nothing to a token bound to another pod, a token for another audience, or an expired token", async () => {
    const elsewhere = await injectedRunningPod("mockloop-elsewhere", "10.0.0.77");
    const tokenForOther = await podToken(namespace, "mcp-server", elsewhere.metadata);
    const wrongAudience = await podToken(namespace, "mcp-server", pod.metadata, "vault");
    const key = await importPKCS8(readFileSync(controlPlane().serviceAccountKeyFile, "utf8"), "ES256");
    const signed = (expiresAt: number): Promise<string> =>
      new SignJWT({
        "kubernetes.io": { namespace, serviceaccount: { name: "mcp-server", uid: serviceAccountUid }, pod: { name: pod.metadata.name, uid: pod.metadata.uid } },
      })
        .setProtectedHeader({ alg: "ES256" })
        .setIssuer(controlPlane().serviceAccountIssuer)
        .setSubject(`system:serviceaccount:${namespace}:mcp-server`)
        .setAudience(["mcpwarden.dev"])
        .setIssuedAt(expiresAt - 3600)
        .setNotBefore(expiresAt - 3600)
        .setExpirationTime(expiresAt)
        .sign(key);
    const now = Math.floor(Date.now() / 1000);
    const expired = await signed(now - 120);

    for (const [token, status] of [
      [tokenForOther, 403],
      [wrongAudience, 401],
      [expired, 401],
      ["not-a-token", 401],
    ] as const) {
      const stream = await connectStream(first.streamUrl, token, env.caPem);
      await new Promise((resolve) => setTimeout(resolve, 200));
      stream.close();
      expect(stream.status).toBe(status);
      expect(stream.events).toEqual([]);
      expect(await postAck(first.streamUrl, token, env.caPem, "0123456789abcdef")).toBe(status);
    }
    // The same signature with a future expiry is accepted: it was the expiry that counted.
    const control = await connectStream(first.streamUrl, await signed(now + 600), env.caPem);
    await eventually("the control token's bundle", async () => (control.bundles().length === 1 ? true : undefined));
    control.close();
    expect(control.bundles()[0]?.policies).toEqual([{ namespace, name: "mockloop", generation: 2 }]);
  });

  it("a selected pod without the sidecar makes unprotected 1 and Programmed=False", async () => {
    const bare = await createPod(namespace, podManifest("mockloop-bare", { labels: { ...labels, "mcpwarden.dev/inject": "false" } }));
    expect(bare.status).toBe(201);
    const policy = await policySettled((p) => p.status?.targets?.unprotected === 1);
    expect(conditionOf(policy.status, "Programmed")).toMatchObject({ status: "False", reason: "Unprotected" });
    expect(conditionOf(policy.status, "Programmed")?.message).toContain("mockloop-bare");
    await api("DELETE", `/api/v1/namespaces/${namespace}/pods/mockloop-bare`);
    await api("DELETE", `/api/v1/namespaces/${namespace}/pods/mockloop-elsewhere`);
    await policySettled((p) => p.status?.targets?.unprotected === 0 && p.status.targets.pods === 1 && programmed(p));
  });

  it("with two replicas only the leader writes status, and a sidecar connected to the other is counted in sync", async () => {
    expect(await leaderMetric(first)).toBe(1);
    expect(await leaderMetric(second)).toBe(0);
    const other = await injectedRunningPod("mockloop-1", "127.0.0.1");
    const token = await podToken(namespace, "mcp-server", other.metadata);
    const stream = await connectStream(second.streamUrl, token, env.caPem);
    await eventually("a bundle from the non-leader", async () => (stream.bundles().length > 0 ? true : undefined));
    expect(await postAck(second.streamUrl, token, env.caPem, stream.bundles()[0]!.revision)).toBe(204);
    const policy = await policySettled((p) => p.status?.targets?.pods === 2 && p.status.targets.inSync === 2 && programmed(p));
    expect(policy.status?.targets).toEqual({ pods: 2, inSync: 2, unprotected: 0 });
    expect(metricValue(await second.metrics(), "mcpwarden_operator_reconcile_total", '{result="success"}')).toBe(0);
    expect(metricValue(await first.metrics(), "mcpwarden_operator_reconcile_total", '{result="success"}')).toBeGreaterThan(0);
    expect(metricValue(await second.metrics(), "mcpwarden_operator_connected_sidecars")).toBe(1);
    stream.close();
    await api("DELETE", `/api/v1/namespaces/${namespace}/pods/mockloop-1`);
    await policySettled((p) => p.status?.targets?.pods === 1 && programmed(p));
  });

  it("killing the operator leaves the sidecar enforcing its last good bundle; a restarted operator re-syncs it and status is true again", async () => {
    const ports = { webhookPort: first.webhookPort, streamPort: first.streamPort, adminPort: first.adminPort };
    await first.kill();
    await eventually("the sidecar to notice", async () => (metricValue((await httpGet(`${sidecarAdmin}/metrics`)).body, "mcpwarden_control_plane_connected") === 0 ? true : undefined));
    expect((await call("run_test_iteration")).refused).toBe(false);
    expect((await call("get_run_logs")).refused).toBe(true);
    expect((await httpGet(`${sidecarAdmin}/readyz`)).status).toBe(200);

    // The other replica takes the Lease; a change made now reaches nobody yet, and status says so.
    await eventually("stream-b to lead", async () => ((await leaderMetric(second)) === 1 ? true : undefined));
    await applyPolicy(namespace, "mockloop", spec({ list_runs: {}, run_test_iteration: {}, get_run_logs: {} }));
    const behind = await policySettled((p) => p.metadata.generation === 3 && p.status?.targets?.inSync === 0);
    expect(conditionOf(behind.status, "Programmed")).toMatchObject({ status: "False", reason: "Pending" });
    expect((await call("get_run_logs")).refused).toBe(true);

    const restarted = await startOperator(env, { identity: "stream-a", ports });
    operators.push(restarted);
    await eventually("get_run_logs to be allowed", async () => ((await call("get_run_logs")).refused ? undefined : true), 90_000);
    const policy = await policySettled((p) => p.status?.targets?.inSync === 1 && programmed(p));
    expect(policy.status?.targets).toEqual({ pods: 1, inSync: 1, unprotected: 0 });
    expect(metricValue((await httpGet(`${sidecarAdmin}/metrics`)).body, "mcpwarden_control_plane_connected")).toBe(1);
  });
  it("a pushed policy that gains a when condition and an arguments schema is enforced (the sidecar loads the engines for it)", async () => {
    await applyPolicy(
      namespace,
      "mockloop",
      spec({
        list_runs: {},
        get_run_logs: { when: "tool != 'get_run_logs'" },
        run_test_iteration: { arguments: { type: "object", properties: { scenario: { type: "string", maxLength: 2 } } } },
      }),
    );
    await eventually("get_run_logs to be refused by its when condition", async () => ((await call("get_run_logs")).refused ? true : undefined), 90_000);
    expect((await call("run_test_iteration")).text).toMatch(/scenario/);
    expect((await call("list_runs")).refused).toBe(false);
  });
});
