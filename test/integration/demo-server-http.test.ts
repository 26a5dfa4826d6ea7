// The demo MCP server as a pod runs it: Streamable HTTP with sessions, or stateless (any
// replica answers any request), /healthz for probes, and `ran TOOL` on stderr for each call
// it runs. And the cluster manifests in examples/demo/kubernetes/ stay in step with the
// standalone demo: the same policy spec plus a selector, the image `make images` builds.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load, loadAll } from "js-yaml";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { repoRoot, run } from "../harness/index.ts";
import { freePort } from "../harness/free-port.ts";
import { ManagedProcess } from "../harness/managed-process.ts";

const serverScript = (): string => join(repoRoot(), "dist", "examples", "demo", "demo-server.js");
let server: ManagedProcess | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function startHttp(extra: string[] = []): Promise<{ url: string; log: () => string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "demo-http-"));
  server = new ManagedProcess({ name: "demo-server", command: process.execPath, args: [serverScript(), "--http", `127.0.0.1:${port}`, ...extra], logFile: join(dir, "server.log") });
  await server.waitForLog(/Streamable HTTP on/, 20_000);
  const logFile = server.logFile;
  return { url: `http://127.0.0.1:${port}`, log: () => readFileSync(logFile, "utf8") };
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: "demo-http-test", version: "0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
  return client;
}

describe("the demo server over Streamable HTTP", () => {
  it("serves the demo's tools in sessions, answers /healthz, and logs each call it runs", async () => {
    const { url, log } = await startHttp();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const client = await connect(url);
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(["debug_delete_all_runs", "deploy_mock_api", "get_run_logs", "list_runs", "reset_mock_data", "run_test_iteration"]);
    await client.callTool({ name: "run_test_iteration", arguments: { scenario: "smoke" } });
    const listed = (await client.callTool({ name: "list_runs", arguments: {} })) as { content: { text: string }[] };
    expect(listed.content[0]?.text).toMatch(/^r-1 smoke 1\/1 at /);
    await client.close();
    expect(log().split("\n").filter((line) => line.startsWith("ran "))).toEqual(["ran run_test_iteration", "ran list_runs"]);
  });

  it("stateless: requests carry no session, and a client that never initialised on this process is answered", async () => {
    const { url } = await startHttp(["--stateless"]);
    const client = await connect(url);
    const response = await fetch(`${url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "c", version: "0" } } }),
    });
    expect(response.headers.get("mcp-session-id")).toBeNull();
    // Every request gets a fresh server: no session, and no runs from another request.
    expect(((await client.callTool({ name: "list_runs", arguments: {} })) as { content: { text: string }[] }).content[0]?.text).toBe("no runs yet");
    await client.close();
  });

  it("refuses an --http value that is not HOST:PORT, naming it", async () => {
    const result = await run(process.execPath, [serverScript(), "--http", "8080"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--http: "8080" is not HOST:PORT');
  });
});

describe("examples/demo/kubernetes/", () => {
  const demoDir = join(repoRoot(), "examples", "demo");
  it("applies the standalone demo's policy, with a selector for the demo server's pods", () => {
    const standalone = load(readFileSync(join(demoDir, "policy.yaml"), "utf8")) as { spec: Record<string, unknown> };
    const cluster = load(readFileSync(join(demoDir, "kubernetes", "policy.yaml"), "utf8")) as { metadata: { namespace: string }; spec: Record<string, unknown> };
    const { selector, ...rest } = cluster.spec;
    expect(selector).toEqual({ matchLabels: { "app.kubernetes.io/name": "demo-server" } });
    expect(rest).toEqual(standalone.spec);
    expect(cluster.metadata.namespace).toBe("demo");
  });

  it("runs the image `make images` builds, with the sidecar's upstream port naming the server's port, behind a Service on the sidecar", async () => {
    const objects = loadAll(readFileSync(join(demoDir, "kubernetes", "demo-server.yaml"), "utf8")) as { kind: string; metadata: { labels?: Record<string, string> }; spec: Record<string, never> }[];
    const names = (await run("make", ["--no-print-directory", "-s", "image-names"])).stdout.trim().split("\n");
    const deployment = objects.find((object) => object.kind === "Deployment") as unknown as {
      spec: { template: { metadata: { annotations: Record<string, string> }; spec: { containers: { image: string; ports: { name: string }[] }[] } } };
    };
    const container = deployment.spec.template.spec.containers[0]!;
    expect(names).toContain(container.image);
    expect(container.image).toMatch(/\/demo-server:/);
    expect(container.ports.map((port) => port.name)).toContain(deployment.spec.template.metadata.annotations["mcpwarden.dev/upstream-port"]);
    const namespace = objects.find((object) => object.kind === "Namespace")!;
    expect(namespace.metadata.labels?.["mcpwarden.dev/inject"]).toBe("enabled");
    const service = objects.find((object) => object.kind === "Service") as unknown as { spec: { ports: { targetPort: string }[] } };
    expect(service.spec.ports[0]?.targetPort).toBe("mcp-warden");
  });
});
