// `mcp-warden sidecar` as a process, the way a pod runs it: flags, readiness, a policy
// edited on disk while it serves, 401s for missing or invalid tokens (never logged), and
// SIGTERM finishing the call in flight before exiting 0.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { repoRoot } from "../harness/index.ts";
import { freePort, portInUse } from "../harness/free-port.ts";
import { calledTools, startFeatureHttpServer, type FeatureHttpServer } from "../support/mcp-feature-server.ts";

const policy = (echo: "allow" | "deny", identity = ""): string => `apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: cli }
spec:
  default: deny
${identity}
  tools:
    echo: { action: ${echo}, reason: "echo is switched off" }
    slow: {}
`;

interface Sidecar {
  child: ChildProcess;
  output: () => string;
  mcpUrl: string;
  adminUrl: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let upstream: FeatureHttpServer;
let dir: string;
const running: ChildProcess[] = [];

beforeAll(async () => {
  upstream = await startFeatureHttpServer();
});
afterAll(async () => {
  await upstream.close();
});
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [join(repoRoot(), "dist", "cli", "main.js"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  running.push(child);
  return child;
}

async function startSidecar(policyText: string): Promise<Sidecar> {
  dir = mkdtempSync(join(tmpdir(), "mcpwarden-cli-"));
  writeFileSync(join(dir, "policy.yaml"), policyText);
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = cli(["sidecar", "--listen", `127.0.0.1:${port}`, "--admin", `127.0.0.1:${adminPort}`, "--upstream", upstream.url, "--policy", join(dir, "policy.yaml")]);
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`${adminUrl}/readyz`).catch(() => undefined))?.status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, output: () => output, mcpUrl: `http://127.0.0.1:${port}/mcp`, adminUrl, exited };
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: "cli-test", version: "0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

describe("mcp-warden sidecar (process)", () => {
  it("a bad flag is one line on stderr and exit 2", async () => {
    const child = cli(["sidecar", "--upstream", "ftp://nowhere", "--policy", "/etc/hostname"]);
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(2);
    expect(stderr).toBe('error: --upstream must be an http:// or https:// URL, got "ftp://nowhere"\n');
  });

  it("enforces the policy file and follows edits to it while serving", async () => {
    const sidecar = await startSidecar(policy("allow"));
    const client = await connect(sidecar.mcpUrl);
    expect((await client.callTool({ name: "echo", arguments: { text: "hi" } })).content).toEqual([{ type: "text", text: "hi" }]);
    const revision = /mcpwarden_policy_revision\{revision="([0-9a-f]+)"\} 1/.exec(await (await fetch(`${sidecar.adminUrl}/metrics`)).text())?.[1];
    expect(revision).toMatch(/^[0-9a-f]{64}$/);
    const timed = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
    expect(timed).toMatch(/mcpwarden_request_duration_seconds_count\{method="tools\/call"\} 1/);
    expect(timed).toMatch(/mcpwarden_upstream_duration_seconds_count\{method="tools\/call"\} 1/);

    writeFileSync(join(dir, "policy.yaml"), policy("deny"));
    let metrics = "";
    const reloaded = (): boolean => metrics.includes("mcpwarden_policy_revision{") && !metrics.includes(`revision="${revision}"`);
    for (let i = 0; i < 100 && !reloaded(); i++) {
      await new Promise((r) => setTimeout(r, 50));
      metrics = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
    }
    expect(reloaded()).toBe(true);
    const before = calledTools(upstream.received).length;
    const denied = await client.callTool({ name: "echo", arguments: { text: "hi" } });
    expect(denied).toMatchObject({ isError: true, _meta: { "mcpwarden.dev/decision": { decision: "deny", reason: "echo is switched off" } } });
    expect(calledTools(upstream.received).length).toBe(before);

    writeFileSync(join(dir, "policy.yaml"), "apiVersion: mcpwarden.dev/v1alpha1\nkind: McpPolicy\nmetadata: { name: cli }\nspec: { default: sometimes }\n");
    for (let i = 0; i < 100 && !metrics.includes("mcpwarden_policy_load_errors_total 1"); i++) {
      await new Promise((r) => setTimeout(r, 50));
      metrics = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
    }
    expect(metrics).toContain("mcpwarden_policy_load_errors_total 1");
    // The last good policy stays in force.
    expect((await client.callTool({ name: "echo", arguments: { text: "hi" } })).isError).toBe(true);
    // Logs are written asynchronously (flushed at least every 100 ms).
    const notApplied = (): string | undefined => sidecar.output().split("\n").find((line) => line.includes('"msg":"policy not applied"'));
    for (let i = 0; i < 40 && notApplied() === undefined; i++) await new Promise((r) => setTimeout(r, 50));
    expect(notApplied()).toContain("spec.default");

    const auditLines = (): Record<string, unknown>[] =>
      sidecar.output().split("\n").filter((line) => line.includes('"audit":"decision"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    for (let i = 0; i < 40 && auditLines().length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    const audit = auditLines();
    expect(audit.map((line) => line["decision"])).toEqual(["allow", "deny", "deny"]);
    expect(audit[0]).toMatchObject({ tool: "echo", policy: "cli", rule: 'tools["echo"]', caller: "", argumentDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(audit[0]).not.toHaveProperty("arguments");
    await client.close();
  });

  it("refuses a missing or invalid token with 401 and WWW-Authenticate, and never logs the token", async () => {
    const sidecar = await startSidecar(policy("allow", "  identity: { source: jwt, jwt: { issuer: https://issuer.example, audiences: [mcp-warden], jwksUri: http://127.0.0.1:1/jwks.json } }"));
    const initialize = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "0" } } });
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    const missing = await fetch(sidecar.mcpUrl, { method: "POST", headers, body: initialize });
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="mcp-warden"');
    const secret = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtYWdlbnQifQ.c2lnbmF0dXJlLXRoYXQtaXMtc2VjcmV0";
    const invalid = await fetch(sidecar.mcpUrl, { method: "POST", headers: { ...headers, authorization: `Bearer ${secret}` }, body: initialize });
    expect(invalid.status).toBe(401);
    expect(invalid.headers.get("www-authenticate")).toMatch(/^Bearer realm="mcp-warden", error="invalid_token", error_description="[^"]+"$/);
    await new Promise((r) => setTimeout(r, 200));
    expect(sidecar.output()).not.toContain("c2lnbmF0dXJl");
    expect(sidecar.output()).not.toContain("eyJzdWIi");
  });

  it("SIGTERM: not ready at once, the call in flight finishes, exit 0, ports free", async () => {
    const sidecar = await startSidecar(policy("allow"));
    const client = await connect(sidecar.mcpUrl);
    const slow = client.callTool({ name: "slow", arguments: {} });
    await new Promise((r) => setTimeout(r, 300));
    sidecar.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${sidecar.adminUrl}/readyz`)).status).toBe(503);
    const result = await slow;
    expect(result.isError).toBeFalsy();
    expect(await sidecar.exited).toEqual({ code: 0, signal: null });
    expect(sidecar.output()).toContain('"msg":"stopped"');
    const ports = [new URL(sidecar.mcpUrl).port, new URL(sidecar.adminUrl).port].map(Number);
    for (const port of ports) expect(await portInUse(port)).toBe(false);
    await client.close().catch(() => undefined);
  });
});
