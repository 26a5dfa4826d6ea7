// A stdio MCP server in a pod (issue 14, ADR 12): the MockLoop server from PyPI
// (images/mockloop.Dockerfile), deployed from examples/mockloop/kubernetes/ with the seed's
// rule examples/policies/mockloop.yaml applied with kubectl. The injector puts
// mcp-warden-launcher in front of its command; a real MCP SDK client through the Service
// sees only run_test_iteration, ten calls in a rolling minute pass and the eleventh is
// refused with the retry time, every other tool is refused and never reaches the server,
// and the sidecar's metrics count exactly that. A server process killed mid-session gives
// that session a JSON-RPC error and a new session a working server; concurrent sessions get
// separate processes. Servers that exit at once, never answer or cannot be found are
// answered (or reported) rather than left hanging.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadAll } from "js-yaml";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { callTool, createNamespace, describeE2e, e2e, eventually, kubectl, kubectlJson, kubectlOk, mcpClient, metric, podUrl, repoRoot, serviceUrl, stopPortForwards } from "./e2e-cluster.ts";

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: Record<string, unknown> & { template?: { spec: { containers: { image: string }[] } } };
}
interface Pod {
  metadata: { name: string };
  spec: { initContainers?: { name: string }[]; containers: { name: string; command?: string[] }[] };
  status: { containerStatuses?: { name: string; ready: boolean; restartCount: number }[] };
}

const selector = "app.kubernetes.io/name=mockloop-mcp";
/** run_test_iteration's arguments: a MockLoop server that is not there, so each call ends at once. */
const iteration = { server_url: "http://127.0.0.1:1", scenario_name: "smoke" };
let namespace = "";
let url = "";
let pod = "";

function examples(path: string): Manifest[] {
  return loadAll(readFileSync(join(repoRoot(), path), "utf8")) as Manifest[];
}

const serverLog = (name = pod): Promise<string> => kubectlOk(["-n", namespace, "logs", name, "-c", "server", "--tail=-1"]);
/** The launcher's "started" lines: one per server process, with its pid in the server container. */
const startedPids = async (name = pod): Promise<number[]> => [...(await serverLog(name)).matchAll(/"serverPid":(\d+),"sessions":\d+,"msg":"started the MCP server for a session"/g)].map((match) => Number(match[1]));
const inServer = (script: string): Promise<string> => kubectlOk(["-n", namespace, "exec", pod, "-c", "server", "--", "sh", "-c", script]);

describeE2e("a stdio MCP server (MockLoop from PyPI) behind the injected sidecar", () => {
  beforeAll(async () => {
    namespace = await createNamespace("e2e-stdio");
    const items = examples("examples/mockloop/kubernetes/mockloop-server.yaml")
      .filter((manifest) => manifest.kind !== "Namespace")
      .map((manifest) => {
        manifest.metadata.namespace = namespace;
        if (manifest.kind === "Deployment") manifest.spec.template!.spec.containers[0]!.image = e2e().images.mockloop!;
        return manifest;
      });
    await kubectlOk(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items }) });
    // The seed's rule as published in examples/, in this file's namespace.
    const [policy] = examples("examples/policies/mockloop.yaml");
    policy!.metadata.namespace = namespace;
    await kubectlOk(["apply", "-f", "-"], { input: JSON.stringify(policy) });
    await kubectlOk(["-n", namespace, "rollout", "status", "deployment/mockloop-mcp", "--timeout=300s"], { timeoutMs: 320_000 });
    await kubectlOk(["-n", namespace, "wait", "--for=condition=Programmed", "mcppolicy/mockloop", "--timeout=180s"], { timeoutMs: 200_000 });
    pod = (await kubectlJson<{ items: Pod[] }>(["-n", namespace, "get", "pods", "-l", selector])).items[0]!.metadata.name;
    url = `${await serviceUrl(namespace, "mockloop-mcp")}/mcp`;
  });
  afterAll(() => stopPortForwards());

  it("runs the server behind mcp-warden-launcher, copied in by an init container, 2/2 Ready", async () => {
    const running = await kubectlJson<Pod>(["-n", namespace, "get", "pod", pod]);
    expect(running.spec.initContainers?.map((container) => container.name)).toEqual(["mcp-warden", "mcp-warden-launcher"]);
    expect(running.spec.containers[0]?.command).toEqual(["/var/run/mcp-warden/launcher/mcp-warden-launcher", "--socket", "/var/run/mcp-warden/stdio/server.sock", "--", "mockloop-mcp", "--stdio"]);
    expect(running.status.containerStatuses?.[0]).toMatchObject({ name: "server", ready: true, restartCount: 0 });
    expect(await serverLog()).toContain('"msg":"listening: every connection runs /opt/mockloop/bin/mockloop-mcp"');
  });

  it("enforces the seed's rule through the Service: only run_test_iteration listed, 10 calls a minute, everything else refused before the server", async () => {
    const callsBefore = (await serverLog()).match(/Processing request of type CallToolRequest/g)?.length ?? 0;
    const { client, close } = await mcpClient(url, {});
    const others = ["generate_mock_api", "deploy_scenario", "query_mock_logs"];
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(["run_test_iteration"]);
      const outcomes = [];
      for (let i = 0; i < 11; i++) outcomes.push(await callTool(client, "run_test_iteration", iteration));
      for (const outcome of outcomes.slice(0, 10)) {
        expect(outcome.isError).toBe(false);
        // MockLoop's own answer: it ran the iteration (and found no server at that URL).
        expect(outcome.text).toContain('"scenario_name": "smoke"');
      }
      expect(outcomes[10]).toMatchObject({ isError: true, decision: { decision: "rate_limited", policy: `${namespace}/mockloop`, rule: 'tools["run_test_iteration"].limits[0]' } });
      expect(outcomes[10]?.decision?.retryAfterSeconds).toBeGreaterThan(0);
      expect(outcomes[10]?.text).toMatch(/Retry after \d+ seconds\./);
      for (const tool of others) {
        expect(await callTool(client, tool, { spec_url_or_path: "/etc/passwd", server_url: "http://127.0.0.1:1", scenario_config: {} })).toMatchObject({
          isError: true,
          decision: { decision: "deny", rule: "default", reason: "this tool is not allowed (default: deny)" },
        });
      }
    } finally {
      await close();
    }
    // The server logs each call it receives: exactly the ten allowed ones reached it.
    expect(((await serverLog()).match(/Processing request of type CallToolRequest/g)?.length ?? 0) - callsBefore).toBe(10);

    const admin = await podUrl(namespace, pod, 9464);
    const calls = (tool: string, decision: string): Promise<number | undefined> =>
      metric(admin, new RegExp(`^mcpwarden_tool_calls_total\\{tool="${tool}",decision="${decision}",policy="${namespace}/mockloop",mode="enforce"\\} `));
    expect(await calls("run_test_iteration", "allow")).toBe(10);
    expect(await calls("run_test_iteration", "rate_limited")).toBe(1);
    for (const tool of others) expect(await calls(tool, "deny")).toBe(1);
    expect(await metric(admin, /^mcpwarden_rate_limit_hits_total\{tool="run_test_iteration",counter="run_test_iteration_rate"\} /)).toBe(1);
  });

  it("gives a session whose server process is killed a JSON-RPC error for its request, and a new session a working server", async () => {
    const before = await startedPids();
    const { client, close } = await mcpClient(url, {});
    try {
      const pid = (await eventually("the session's process to start", async () => (await startedPids()).find((candidate) => !before.includes(candidate))))!;
      // Stopped, it cannot answer: the request is in flight when the process is killed.
      await inServer(`kill -STOP ${pid}`);
      const admin = await podUrl(namespace, pod, 9464);
      const forwarded = (): Promise<number | undefined> => metric(admin, /^mcpwarden_request_duration_seconds_count\{method="tools\/list"\} /);
      const forwardedBefore = (await forwarded()) ?? 0;
      const listing = client.listTools().then(
        () => undefined,
        (error: unknown) => error,
      );
      await eventually("the sidecar to forward tools/list to the stopped process", async () => (((await forwarded()) ?? 0) > forwardedBefore ? true : undefined));
      await inServer(`kill -KILL ${pid}`);
      const error = await listing;
      expect(error).toBeInstanceOf(McpError);
      expect((error as McpError).code).toBe(-32000);
      expect((error as McpError).message).toContain(`the MCP server process (pid ${pid} in the server container) ended`);
      expect(await serverLog()).toContain(`"serverPid":${pid},"signal":9,"msg":"the MCP server of a session was ended by signal 9 (Killed)"`);
    } finally {
      await close();
    }
    const fresh = await mcpClient(url, {});
    try {
      expect((await fresh.client.listTools()).tools.map((tool) => tool.name)).toEqual(["run_test_iteration"]);
    } finally {
      await fresh.close();
    }
  });

  it("runs a separate server process for each of two concurrent sessions", async () => {
    const before = await startedPids();
    const [a, b] = await Promise.all([mcpClient(url, {}), mcpClient(url, {})]);
    try {
      const [listedA, listedB] = await Promise.all([a.client.listTools(), b.client.listTools()]);
      expect([listedA.tools.map((tool) => tool.name), listedB.tools.map((tool) => tool.name)]).toEqual([["run_test_iteration"], ["run_test_iteration"]]);
      const pids = (await startedPids()).filter((pid) => !before.includes(pid));
      expect(pids).toHaveLength(2);
      // Both alive at once, in the server container.
      expect(await inServer(`kill -0 ${pids[0]} && kill -0 ${pids[1]} && echo both`)).toContain("both");
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describeE2e("stdio pods that cannot work: refused, or answered, never a hung client", () => {
  const faultyPod = (name: string, annotations: Record<string, string>, container: Record<string, unknown>): Record<string, unknown> => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels: { "app.kubernetes.io/name": "stdio-faulty" }, annotations: { "mcpwarden.dev/upstream-transport": "stdio", ...annotations } },
    spec: {
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
      containers: [{ name: "server", image: e2e().images.mockloop, imagePullPolicy: "IfNotPresent", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } }, ...container }],
    },
  });

  beforeAll(async () => {
    // Every call allowed: these pods are about the server, not the policy.
    await kubectlOk(["apply", "-f", "-"], {
      input: JSON.stringify({ apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpPolicy", metadata: { name: "faulty", namespace }, spec: { selector: { matchLabels: { "app.kubernetes.io/name": "stdio-faulty" } }, default: "allow" } }),
    });
    const pods = [
      faultyPod("exits-at-once", {}, { command: ["sh", "-c", "echo 'mockloop: no configuration' >&2; exit 3"] }),
      faultyPod("never-answers", { "mcpwarden.dev/upstream-timeout": "5s" }, { command: ["sleep", "3600"] }),
      faultyPod("not-there", {}, { command: ["no-such-mcp-server", "--stdio"] }),
    ];
    await kubectlOk(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: pods }) });
    await kubectlOk(["-n", namespace, "wait", "--for=condition=Ready", "pod/exits-at-once", "pod/never-answers", "--timeout=180s"], { timeoutMs: 200_000 });
  });

  it("refuses a stdio pod whose command cannot be determined, and an unknown transport, naming the annotation", async () => {
    const noCommand = await kubectl(["apply", "-f", "-"], { input: JSON.stringify(faultyPod("no-command", {}, { args: ["--stdio"] })) });
    expect(noCommand.code).not.toBe(0);
    expect(noCommand.stderr).toContain("its image's ENTRYPOINT runs, which the pod spec does not show. Set the annotation mcpwarden.dev/upstream-command");
    const unknown = await kubectl(["apply", "-f", "-"], { input: JSON.stringify(faultyPod("websocket", { "mcpwarden.dev/upstream-transport": "websocket" }, { command: ["mockloop-mcp"] })) });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('mcpwarden.dev/upstream-transport is "websocket": it must be http');
  });

  it("answers initialize with a JSON-RPC error when the server exits at once; its exit code and stderr are in the container's log", async () => {
    const base = await podUrl(namespace, "exits-at-once", 9000);
    const error = await mcpClient(`${base}/mcp`, {}).then(
      async ({ close }) => (await close(), undefined),
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(McpError);
    // Ended before or after the sidecar read the launcher's first line (which names the pid).
    expect((error as McpError).message).toMatch(/the MCP server process (\(pid \d+ in the server container\) ended|ended as it started); its exit status is in the server container's log/);
    const log = await serverLog("exits-at-once");
    expect(log).toContain("mockloop: no configuration");
    expect(log).toContain('"exitCode":3,"msg":"the MCP server of a session exited with code 3"');
  });

  it("answers an initialize the server never answers with a timeout error (mcpwarden.dev/upstream-timeout)", async () => {
    const base = await podUrl(namespace, "never-answers", 9000);
    const response = await fetch(`${base}/mcp`, {
      method: "POST",
      headers: { accept: "application/json, text/event-stream", "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: "init-1", method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "e2e", version: "0" } } }),
    });
    const text = await response.text();
    const data = text.includes("data: ") ? (text.split("data: ")[1] as string).split("\n")[0] as string : text;
    expect(JSON.parse(data)).toMatchObject({ id: "init-1", error: { code: -32001, message: "the MCP server did not answer within 5 s" } });
  });

  it("restarts a server container whose command is not there with a back-off Event, its log naming the command", async () => {
    const event = await eventually("the kubelet's BackOff Event", async () => {
      const events = await kubectlJson<{ items: { reason: string; message: string; involvedObject: { name: string } }[] }>(["-n", namespace, "get", "events", "--field-selector", "involvedObject.name=not-there"]);
      return events.items.find((candidate) => candidate.reason === "BackOff");
    });
    expect(event.message).toContain("Back-off restarting failed container server");
    const log = await kubectlOk(["-n", namespace, "logs", "not-there", "-c", "server", "--previous"]).catch(() => serverLog("not-there"));
    expect(log).toContain("cannot run the MCP server: no-such-mcp-server is not an executable file on PATH");
  });
});
