// Tool definitions in a cluster, end to end: real `mcp-warden sidecar` processes with
// pod-bound tokens in front of real MCP servers whose `list_runs` a test changes (the
// rug pull: between two listings, and by hand), the operator as a process under its
// ClusterRole recording what the sidecars report and writing status and Events in the
// real API server, and people pinning definitions with `kubectl mcpwarden pin accept`
// under their own credentials.
//   agent-0 → upstream A, which lists the changed list_runs from its second listing on
//   agent-1 → upstream B, which keeps the reviewed one (until the audit test patches it)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { toolDefinitionDigest } from "../../policy/index.ts";
import { createNamespace, kubeconfigFor, kubectlOk } from "../harness/index.ts";
import { calledTools } from "../support/mcp-feature-server.ts";
import { CHANGED_LIST_RUNS, definitionTools, listAllTools, PATCHED_LIST_RUNS, REVIEWED_LIST_RUNS, startDefinitionHttpServer, type DefinitionHttpServer } from "../support/mcp-definition-server.ts";
import {
  applyPolicy,
  createServiceAccount,
  eventsFor,
  eventually,
  httpGet,
  installKubectlPlugin,
  metricValue,
  operatorEnvironment,
  readLog,
  readPolicy,
  registerInjectionWebhook,
  runKubectlPlugin,
  startOperator,
  startPodSidecar,
  type OperatorEnvironment,
  type OperatorProcess,
  type PodSidecar,
} from "./operator-fixture.ts";

const digestOf = (tool: Tool): string => toolDefinitionDigest(tool as unknown as Record<string, unknown>);
const REVIEWED = digestOf(REVIEWED_LIST_RUNS);
const CHANGED = digestOf(CHANGED_LIST_RUNS);
const PATCHED = digestOf(PATCHED_LIST_RUNS);
const GET_RUN = digestOf(definitionTools("reviewed", "")[1] as Tool);
const labels = { app: "runs" };

type Sidecar = PodSidecar;

interface ToolStatus {
  name: string;
  pinned?: string;
  changed: boolean;
  seen: { digest: string; pods: number }[];
}

let env: OperatorEnvironment;
let operator: OperatorProcess;
let namespace: string;
let upstreamA: DefinitionHttpServer;
let upstreamB: DefinitionHttpServer;
let plugins: string;
let first: Sidecar;
let second: Sidecar;
const cleanups: (() => Promise<unknown>)[] = [];
const kubeconfigs: Record<string, string> = {};

const startSidecar = (name: string, upstream: DefinitionHttpServer): Promise<Sidecar> =>
  startPodSidecar(env, operator, { namespace, name, labels, serviceAccount: "runs", upstreamUrl: upstream.url }, cleanups);

/** The names in every page of tools/list, as the agent sees them. */
const listed = async (sidecar: Sidecar): Promise<string[]> => (await listAllTools(sidecar.client)).map((tool) => tool.name);

const callListRuns = async (sidecar: Sidecar): Promise<CallToolResult> => (await sidecar.client.callTool({ name: "list_runs", arguments: {} })) as CallToolResult;
const decisionOf = (result: CallToolResult): unknown => result._meta?.["mcpwarden.dev/decision"];
const metric = async (sidecar: Sidecar, name: string, labelText: string): Promise<number | undefined> => metricValue((await httpGet(`${sidecar.admin}/metrics`)).body, name, labelText);

/** `kubectl mcpwarden ...` as `user`. */
const plugin = (user: string, ...args: string[]) => runKubectlPlugin(plugins, kubeconfigs[user], args);

async function toolStatus(tool: string): Promise<ToolStatus | undefined> {
  const status = (await readPolicy(namespace, "runs")).status as { toolDefinitions?: { tools: ToolStatus[] } } | undefined;
  return status?.toolDefinitions?.tools.find((entry) => entry.name === tool);
}

/** Both sidecars enforce the policy's current generation (its status says so). */
async function programmed(): Promise<void> {
  await eventually("both sidecars to enforce the policy's current generation", async () => {
    const policy = await readPolicy(namespace, "runs");
    const condition = policy.status?.conditions?.find((entry) => entry.type === "Programmed");
    return condition?.status === "True" && condition.observedGeneration === policy.metadata.generation ? true : undefined;
  });
}

const spec = (mode: "pin" | "audit", listRunsPin: string) => ({
  selector: { matchLabels: labels },
  default: "allow",
  toolDefinitions: { mode, pins: { list_runs: listRunsPin, get_run: GET_RUN } },
});

beforeAll(async () => {
  // The first listing (three pages) of A is the reviewed one; from its second, the rug pull.
  upstreamA = await startDefinitionHttpServer({ changeAfterListings: 3 });
  upstreamB = await startDefinitionHttpServer();
  cleanups.push(() => upstreamA.close(), () => upstreamB.close());
  env = await operatorEnvironment("definitions");
  operator = await startOperator(env, { identity: "definitions-0" });
  namespace = await createNamespace("definitions", { "mcpwarden.dev/inject": "enabled" });
  cleanups.push(await registerInjectionWebhook(env, "mcp-warden-injector-definitions", operator.webhookPort));
  await createServiceAccount(namespace, "runs");

  // bob may edit policies (the chart's mcpwarden-editor would do); mallory may only read them.
  const roles = [
    { name: "policy-editors", verbs: ["get", "list", "watch", "patch"], users: ["bob"] },
    { name: "policy-readers", verbs: ["get", "list", "watch"], users: ["mallory"] },
  ];
  for (const role of roles) {
    const objects = [
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: role.name, namespace }, rules: [{ apiGroups: ["mcpwarden.dev"], resources: ["mcppolicies"], verbs: role.verbs }] },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: role.name, namespace },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.name },
        subjects: role.users.map((name) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "User", name })),
      },
    ];
    for (const object of objects) await kubectlOk(["apply", "--server-side", "--field-manager=mcp-warden-tests", "-f", "-"], { input: JSON.stringify(object) });
  }
  for (const user of ["bob", "mallory"]) kubeconfigs[user] = await kubeconfigFor(user);
  plugins = installKubectlPlugin();

  await applyPolicy(namespace, "runs", spec("pin", REVIEWED));
  first = await startSidecar("runs-0", upstreamA);
  second = await startSidecar("runs-1", upstreamB);
  await programmed();
}, 180_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  const log = operator === undefined ? "" : readLog(operator.process, 2000);
  await operator?.stop();
  expect(log).not.toMatch(/forbidden/i);
});

describe("tool definitions through the operator (pins, status, Events, kubectl mcpwarden pin accept)", () => {
  it("pin: the tool whose description changed between two listings disappears, its call is refused with both digests and never reaches the server", async () => {
    expect(await listed(first)).toEqual(["list_runs", "get_run"]);
    expect(await listed(second)).toEqual(["list_runs", "get_run"]);
    // The second listing of A is the rug pull.
    expect(await listed(first)).toEqual(["get_run"]);
    const refused = await callListRuns(first);
    expect(refused.isError).toBe(true);
    expect((refused.content[0] as { text: string }).text).toBe(`The call to tool "list_runs" was refused: the tool's definition changed since it was approved.`);
    expect(decisionOf(refused)).toEqual({
      decision: "definition_changed",
      policy: `${namespace}/runs`,
      rule: 'toolDefinitions.pins["list_runs"]',
      reason: `tool "list_runs": the server lists definition ${CHANGED}, pinned ${REVIEWED}`,
    });
    expect(calledTools(upstreamA.received)).toEqual([]);
    expect(await metric(first, "mcpwarden_tool_definition_changes_total", `{tool="list_runs",policy="${namespace}/runs"}`)).toBe(1);
    expect(await metric(first, "mcpwarden_tool_calls_total", `{tool="list_runs",decision="definition_changed",policy="${namespace}/runs",mode="enforce"}`)).toBe(1);
  });

  it("status shows the two pods seeing different definitions, and a Warning Event names the change", async () => {
    const status = await eventually("status.toolDefinitions to show both pods' definitions of list_runs", async () => {
      const tool = await toolStatus("list_runs");
      return tool?.seen.length === 2 ? tool : undefined;
    });
    expect(status).toEqual({ name: "list_runs", pinned: REVIEWED, changed: true, seen: [{ digest: CHANGED, pods: 1 }, { digest: REVIEWED, pods: 1 }].sort((a, b) => (a.digest < b.digest ? -1 : 1)) });
    expect(await toolStatus("get_run")).toEqual({ name: "get_run", pinned: GET_RUN, changed: false, seen: [{ digest: GET_RUN, pods: 2 }] });
    const uid = (await readPolicy(namespace, "runs")).metadata.uid;
    const event = await eventually("a ToolDefinitionChanged event", async () => (await eventsFor(namespace, uid)).find((entry) => entry.reason === "ToolDefinitionChanged"));
    expect(event).toMatchObject({ type: "Warning", note: expect.stringContaining(`tool "list_runs": 1 pod lists definition ${CHANGED}, pinned ${REVIEWED}`) });
    expect((await eventsFor(namespace, uid)).find((entry) => entry.reason === "ToolDefinitionUnpinned")?.note).toMatch(/^4 tools are listed without a pin \("backref_tool", "draft4_tool", "draft7_tool", "remote_ref_tool"\); calls to them are refused;/);
  });

  it("pin accept: pods disagree, so --digest is required and the variants are listed; a missing policy or tool is exit 1", async () => {
    const ambiguous = await plugin("bob", "pin", "accept", `${namespace}/runs`, "list_runs");
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain(`error: the pods of ${namespace}/runs see 2 definitions of "list_runs"; choose one with --digest:`);
    expect(ambiguous.stderr).toContain(`  ${REVIEWED}  1 pod  (pinned)`);
    expect(ambiguous.stderr).toContain(`  ${CHANGED}  1 pod`);
    const noPolicy = await plugin("bob", "pin", "accept", `${namespace}/nope`, "list_runs");
    expect(noPolicy.code).toBe(1);
    expect(noPolicy.stderr).toMatch(/not ?found/i);
    const noTool = await plugin("bob", "pin", "accept", `${namespace}/runs`, "delete_everything");
    expect(noTool).toMatchObject({ code: 1, stderr: expect.stringContaining(`error: no pod selected by ${namespace}/runs lists a tool "delete_everything"`) });
    const unseen = await plugin("bob", "pin", "accept", `${namespace}/runs`, "list_runs", "--digest", PATCHED);
    expect(unseen).toMatchObject({ code: 1, stderr: expect.stringContaining(`no pod of ${namespace}/runs lists "list_runs" with the definition ${PATCHED}`) });
  });

  it("pin accept as a user without rights on McpPolicies is refused by the API server; as one with them it restores the tool", async () => {
    const refused = await plugin("mallory", "pin", "accept", `${namespace}/runs`, "list_runs", "--digest", CHANGED);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/forbidden/i);
    expect((await readPolicy(namespace, "runs")).spec).toMatchObject({ toolDefinitions: { pins: { list_runs: REVIEWED } } });

    const accepted = await plugin("bob", "pin", "accept", `${namespace}/runs`, "list_runs", "--digest", CHANGED);
    expect(accepted).toMatchObject({ code: 0, stdout: `mcppolicy ${namespace}/runs: tool "list_runs" pinned to ${CHANGED} (was ${REVIEWED})\n` });
    expect((await readPolicy(namespace, "runs")).spec).toMatchObject({ toolDefinitions: { mode: "pin", pins: { list_runs: CHANGED, get_run: GET_RUN } } });
    await programmed();
    expect(await listed(first)).toEqual(["list_runs", "get_run"]);
    expect((await callListRuns(first)).content).toEqual([{ type: "text", text: "list_runs ran with {}" }]);
    expect(calledTools(upstreamA.received)).toEqual(["list_runs"]);
  });

  it("audit: a definition that is not the pin is counted and reported, and nothing is refused", async () => {
    await applyPolicy(namespace, "runs", spec("audit", CHANGED));
    await programmed();
    upstreamB.setVariant("patched");
    expect(await listed(second)).toEqual(["list_runs", "get_run", "draft7_tool", "draft4_tool", "backref_tool", "remote_ref_tool"]);
    expect((await callListRuns(second)).content).toEqual([{ type: "text", text: "list_runs ran with {}" }]);
    expect(calledTools(upstreamB.received)).toEqual(["list_runs"]);
    expect(await metric(second, "mcpwarden_tool_definition_changes_total", `{tool="list_runs",policy="${namespace}/runs"}`)).toBe(1);
    expect(await metric(second, "mcpwarden_tool_calls_total", `{tool="list_runs",decision="definition_changed",policy="${namespace}/runs",mode="audit"}`)).toBe(1);
    expect(await metric(second, "mcpwarden_tool_calls_total", `{tool="list_runs",decision="allow",policy="${namespace}/runs",mode="enforce"}`)).toBe(1);
    const status = await eventually("status to show the patched definition", async () => {
      const tool = await toolStatus("list_runs");
      return tool?.seen.some((entry) => entry.digest === PATCHED) === true ? tool : undefined;
    });
    expect(status).toMatchObject({ pinned: CHANGED, changed: true });
  });
});
