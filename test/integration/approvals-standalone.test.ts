// Standalone approvals end to end: `mcp-warden sidecar` as a process in front of a real MCP
// server, a real MCP SDK client, and a person deciding with `mcp-warden approvals|approve|deny`
// through the admin API. The upstream's recorder proves what reached the server.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult, Progress } from "@modelcontextprotocol/sdk/types.js";
import { repoRoot } from "../harness/index.ts";
import { freePort } from "../harness/free-port.ts";
import { calledTools, startFeatureHttpServer, type FeatureHttpServer } from "../support/mcp-feature-server.ts";

const POLICY = `apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: approvals }
spec:
  default: allow
  tools:
    deploy: { action: approve, approval: { timeout: 30s } }
    delete_all: { action: approve, approval: { timeout: 2s } }
`;

const TOKEN = "s3cret-admin-token";

interface Sidecar {
  mcpUrl: string;
  adminUrl: string;
  output: () => string;
  tokenFile: string;
}

let upstream: FeatureHttpServer;
const dirs: string[] = [];
const children: ChildProcess[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  upstream = await startFeatureHttpServer();
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close().catch(() => undefined);
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function mcpWarden(args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [join(repoRoot(), "dist", "cli", "main.js"), ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  children.push(child);
  return child;
}

/** A CLI run to its end. */
async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = mcpWarden(args, env);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", (exitCode) => resolve(exitCode)));
  return { code, stdout, stderr };
}

async function startSidecar(extra: (dir: string) => string[] = () => []): Promise<Sidecar> {
  const dir = mkdtempSync(join(tmpdir(), "mcpwarden-approvals-"));
  dirs.push(dir);
  writeFileSync(join(dir, "policy.yaml"), POLICY);
  writeFileSync(join(dir, "admin-token"), `${TOKEN}\n`);
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = mcpWarden(["sidecar", "--listen", `127.0.0.1:${port}`, "--admin", `127.0.0.1:${adminPort}`, "--upstream", upstream.url, "--policy", join(dir, "policy.yaml"), ...extra(dir)]);
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`${adminUrl}/readyz`).catch(() => undefined))?.status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { mcpUrl: `http://127.0.0.1:${port}/mcp`, adminUrl, output: () => output, tokenFile: join(dir, "admin-token") };
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: "approvals-test", version: "0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  clients.push(client);
  return client;
}

interface ListedApproval {
  name: string;
  phase: string;
  tool: string;
  preview: string;
  expiresAt: string;
  decidedBy?: string;
  reason?: string;
}

/** Straight from the admin API: a CLI process per poll is too slow for a 2 s approval. */
async function approvals(sidecar: Sidecar, token?: string): Promise<ListedApproval[]> {
  const response = await fetch(`${sidecar.adminUrl}/v1/approvals`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: ListedApproval[] }).items;
}

/** Waits for a pending approval of `tool` that is not in `known`. */
async function pendingApproval(sidecar: Sidecar, tool: string): Promise<ListedApproval> {
  for (let i = 0; i < 500; i++) {
    const found = (await approvals(sidecar)).find((a) => a.phase === "Pending" && a.tool === tool);
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no pending approval of ${tool}`);
}

const text = (result: unknown): string => ((result as CallToolResult).content[0] as { text: string }).text;
const deployCalls = (tool = "deploy"): number => calledTools(upstream.received).filter((name) => name === tool).length;

describe("standalone approvals (sidecar process, admin API, CLI)", () => {
  it("approve: the held call proceeds once a person approves; the table, the decider and the metrics show it", async () => {
    const sidecar = await startSidecar();
    const client = await connect(sidecar.mcpUrl);
    const before = deployCalls();
    const held = client.callTool({ name: "deploy", arguments: { target: "prod", apiKey: "do-not-show" } });
    const asked = await pendingApproval(sidecar, "deploy");
    expect(JSON.parse(asked.preview)).toEqual({ target: "prod", apiKey: "***" });
    expect(deployCalls()).toBe(before);

    const listed = await run(["approvals", "--admin", sidecar.adminUrl]);
    expect(listed.stdout).toMatch(/^NAME\s+PHASE\s+TOOL\s+CALLER\s+AGE\s+EXPIRES IN\s+DECIDED BY$/m);
    expect(listed.stdout).toMatch(new RegExp(`^${asked.name}\\s+Pending\\s+deploy\\s+<none>\\s+\\d+s\\s+\\d+s$`, "m"));

    const approved = await run(["approve", asked.name, "--admin", sidecar.adminUrl]);
    expect(approved).toMatchObject({ code: 0, stdout: `approval ${asked.name} approved (recorded decider: loopback)\n` });
    const result = await held;
    expect(result.isError).toBeFalsy();
    expect(text(result)).toContain("deploy ran with");
    expect(deployCalls()).toBe(before + 1);

    const second = await run(["deny", asked.name, "--admin", sidecar.adminUrl]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("was already decided (Approved by loopback)");
    const metrics = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
    expect(metrics).toContain('mcpwarden_approvals_total{tool="deploy",outcome="approved"} 1');
    expect(metrics).toMatch(/^mcpwarden_approvals_pending 0$/m);
    expect(metrics).toMatch(/^mcpwarden_approval_wait_seconds_count 1$/m);
  });

  it("progress: a client that gave a progress token hears the call wait for its approval, then gets the result", async () => {
    const sidecar = await startSidecar();
    const client = await connect(sidecar.mcpUrl);
    const heard: Progress[] = [];
    let first: () => void = () => undefined;
    const waiting = new Promise<void>((resolve) => (first = resolve));
    const held = client.callTool({ name: "deploy", arguments: { target: "progress" } }, undefined, {
      onprogress: (progress) => {
        heard.push(progress);
        first();
      },
    });
    await waiting;
    const asked = await pendingApproval(sidecar, "deploy");
    expect(heard[0]).toMatchObject({ progress: 1, message: expect.stringMatching(new RegExp(`^waiting for approval ${asked.name} \\(pending \\d+ s\\)$`)) });
    expect((await run(["approve", asked.name, "--admin", sidecar.adminUrl])).code).toBe(0);
    const result = await held;
    expect(result.isError).toBeFalsy();
    expect(text(result)).toBe('deploy ran with {"target":"progress"}');
  });

  it("deny: the agent reads the reason; the server never sees the call", async () => {
    const sidecar = await startSidecar();
    const client = await connect(sidecar.mcpUrl);
    const before = deployCalls();
    const held = client.callTool({ name: "deploy", arguments: { target: "prod" } });
    const asked = await pendingApproval(sidecar, "deploy");
    const denied = await run(["deny", asked.name, "--reason", "not during the freeze", "--admin", sidecar.adminUrl]);
    expect(denied.stdout).toBe(`approval ${asked.name} denied (recorded decider: loopback)\n`);
    const result = await held;
    expect(result.isError).toBe(true);
    expect(text(result)).toContain(`approval ${asked.name} was denied by loopback: not during the freeze`);
    expect(deployCalls()).toBe(before);
  });

  it("expiry is a deny, and an approval after it is refused", async () => {
    const sidecar = await startSidecar();
    const client = await connect(sidecar.mcpUrl);
    const before = deployCalls("delete_all");
    const held = client.callTool({ name: "delete_all", arguments: {} });
    const asked = await pendingApproval(sidecar, "delete_all");
    const result = await held;
    expect(result.isError).toBe(true);
    expect(text(result)).toContain(`approval ${asked.name} expired without a decision`);
    const late = await run(["approve", asked.name, "--admin", sidecar.adminUrl]);
    expect(late.code).toBe(1);
    expect(late.stderr).toContain("expired");
    expect(deployCalls("delete_all")).toBe(before);
    expect(await (await fetch(`${sidecar.adminUrl}/metrics`)).text()).toContain('mcpwarden_approvals_total{tool="delete_all",outcome="expired"} 1');
  });

  it("a double approval racing expiry: the server sees the call at most once", async () => {
    const sidecar = await startSidecar();
    const client = await connect(sidecar.mcpUrl);
    const before = deployCalls("delete_all");
    const held = client.callTool({ name: "delete_all", arguments: { target: "race" } });
    const asked = await pendingApproval(sidecar, "delete_all");
    // The decisions land within the last few milliseconds before expiry (or just after it).
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(asked.expiresAt) - Date.now() - 5)));
    const decisions = await Promise.all([0, 1, 2].map(() => fetch(`${sidecar.adminUrl}/v1/approvals/${asked.name}/approve`, { method: "POST" })));
    expect(decisions.filter((d) => d.status === 200).length).toBeLessThanOrEqual(1);
    const result = await held;
    const retry = await client.callTool({ name: "delete_all", arguments: { target: "race" } });
    const passed = [result, retry].filter((r) => r.isError !== true).length;
    expect(passed).toBeLessThanOrEqual(1);
    expect(deployCalls("delete_all") - before).toBe(passed);
  });

  it("after the hold runs out, the identical retry passes once; other arguments need their own approval; the token guards the API", async () => {
    const sidecar = await startSidecar((dir) => ["--approval-hold", "1", "--admin-token-file", join(dir, "admin-token")]);
    const client = await connect(sidecar.mcpUrl);
    const before = deployCalls();

    const first = await client.callTool({ name: "deploy", arguments: { target: "staging" } });
    expect(first.isError).toBe(true);
    const [asked] = await approvals(sidecar, TOKEN);
    expect(text(first)).toContain(`approval ${asked!.name} is still pending after 1 s`);

    // Without the token nothing is listed or decided; metrics stay open to scrapers.
    expect((await fetch(`${sidecar.adminUrl}/v1/approvals`)).status).toBe(401);
    expect((await fetch(`${sidecar.adminUrl}/v1/approvals/${asked!.name}/approve`, { method: "POST", headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const refused = await run(["approve", asked!.name, "--admin", sidecar.adminUrl]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("401: the approvals API needs the admin token");
    expect((await fetch(`${sidecar.adminUrl}/metrics`)).status).toBe(200);

    // Other arguments: a new approval, not the pending one.
    const other = await client.callTool({ name: "deploy", arguments: { target: "prod" } });
    expect(other.isError).toBe(true);
    expect(text(other)).not.toContain(asked!.name);

    const listed = await run(["approvals", "--admin", sidecar.adminUrl, "-o", "yaml"], { MCPWARDEN_ADMIN_TOKEN: TOKEN });
    expect(listed.stdout).toContain(`name: ${asked!.name}`);
    const approved = await run(["approve", asked!.name, "--admin", sidecar.adminUrl, "--admin-token-file", sidecar.tokenFile]);
    expect(approved.stdout).toBe(`approval ${asked!.name} approved (recorded decider: admin-token)\n`);

    const retry = await client.callTool({ name: "deploy", arguments: { target: "staging" } });
    expect(retry.isError).toBeFalsy();
    expect(text(retry)).toContain("deploy ran with");
    const otherRetry = await client.callTool({ name: "deploy", arguments: { target: "prod" } });
    expect(otherRetry.isError).toBe(true);
    expect(deployCalls()).toBe(before + 1);

    // The approval let one call through: the same call again asks anew.
    const again = await client.callTool({ name: "deploy", arguments: { target: "staging" } });
    expect(again.isError).toBe(true);
    expect(text(again)).toContain("is still pending");
    expect(text(again)).not.toContain(asked!.name);
    expect(deployCalls()).toBe(before + 1);
    const metrics = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
    expect(metrics).toContain('mcpwarden_approvals_total{tool="deploy",outcome="timed_out"} 4');
    expect(metrics).toContain('mcpwarden_approvals_total{tool="deploy",outcome="approved"} 1');
  });
});
