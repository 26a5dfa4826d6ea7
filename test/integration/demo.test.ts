// `make demo` as a person runs it: it starts, an MCP client sees the policy at work
// (allowed, denied, rate limited, held for approval and approved with `mcp-warden approve`), metrics count it, and Ctrl-C stops it with exit 0,
// leaving no process and no port behind.
import { describe, expect, it, onTestFinished } from "vitest";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { repoRoot, run } from "../harness/index.ts";
import { portInUse } from "../harness/free-port.ts";
import { processAlive } from "../support/process-alive.ts";

const MCP_PORT = 9000;
const ADMIN_PORT = 9464;

/** Our child and everything under it, from ps. */
async function descendants(root: number): Promise<{ pid: number; command: string }[]> {
  const ps = await run("ps", ["-eo", "pid=,ppid=,args="]);
  const rows = ps.stdout.split("\n").filter(Boolean).map((line) => {
    const [pid, ppid, ...args] = line.trim().split(/\s+/);
    return { pid: Number(pid), ppid: Number(ppid), command: args.join(" ") };
  });
  const found = new Set<number>([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const row of rows) {
      if (found.has(row.ppid) && !found.has(row.pid)) {
        found.add(row.pid);
        grew = true;
      }
    }
  }
  return rows.filter((row) => found.has(row.pid) && row.pid !== root);
}

describe("make demo", () => {
  it("serves the demo behind the sidecar until SIGINT, then exits 0 leaving nothing behind", async () => {
    expect(await portInUse(MCP_PORT), `port ${MCP_PORT} is taken: is a demo already running?`).toBe(false);
    expect(await portInUse(ADMIN_PORT), `port ${ADMIN_PORT} is taken`).toBe(false);

    // Ctrl-C at a terminal reaches the whole foreground group, make included, and make
    // then kills itself with SIGINT once its recipe has ended, so its exit status would
    // say "interrupted" however cleanly the demo stopped. A script's background job
    // (`make demo &`) has SIGINT ignored instead; `trap "" INT` reproduces that, so the
    // signal is handled by the demo alone (Node's own handler replaces the inherited
    // ignore) and make reports the demo's exit status. Detached: the test signals the
    // group, as a terminal would.
    const child = spawn("sh", ["-c", 'trap "" INT; exec make --no-print-directory demo'], {
      cwd: repoRoot(),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
    });

    const deadline = Date.now() + 180_000;
    while (!output.includes("Press Ctrl-C") && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
    expect(output, output).toContain("Press Ctrl-C");
    expect(output).toContain(`http://127.0.0.1:${MCP_PORT}/mcp`);
    expect(output).toContain("npx @modelcontextprotocol/inspector");

    // The demo's policy names the caller by the x-agent-id header: each agent has its own budget.
    const agent = async (name: string): Promise<Client> => {
      const connected = new Client({ name: `demo-test-${name}`, version: "0" });
      await connected.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${MCP_PORT}/mcp`), { requestInit: { headers: { "x-agent-id": name } } }));
      return connected;
    };
    const client = await agent("alice");
    const listed = (await client.listTools()).tools.map((tool) => tool.name).sort();
    expect(listed).toEqual(["get_run_logs", "list_runs", "reset_mock_data", "run_test_iteration"]);

    const allowed = await client.callTool({ name: "list_runs", arguments: {} });
    expect(allowed.isError).toBeFalsy();
    const denied = await client.callTool({ name: "deploy_mock_api", arguments: { version: "1.2.3" } });
    expect(denied).toMatchObject({ isError: true, _meta: { "mcpwarden.dev/decision": { decision: "deny", policy: "demo", rule: "default" } } });
    for (let i = 0; i < 10; i++) expect((await client.callTool({ name: "run_test_iteration", arguments: { scenario: "smoke" } })).isError).toBeFalsy();
    const limited = await client.callTool({ name: "run_test_iteration", arguments: { scenario: "smoke" } });
    expect(limited).toMatchObject({ isError: true, _meta: { "mcpwarden.dev/decision": { decision: "rate_limited", retryAfterSeconds: expect.any(Number) } } });
    const bob = await agent("bob");
    expect((await bob.callTool({ name: "run_test_iteration", arguments: { scenario: "smoke" } })).isError).toBeFalsy();
    await bob.close();
    // No x-agent-id: no caller, no call (401 at initialize).
    const anonymous = await fetch(`http://127.0.0.1:${MCP_PORT}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "curl", version: "0" } } }),
    });
    expect(anonymous.status).toBe(401);
    const invalid = await client.callTool({ name: "get_run_logs", arguments: { run_id: "../etc/passwd" } });
    expect(invalid).toMatchObject({ isError: true, _meta: { "mcpwarden.dev/decision": { decision: "invalid_arguments" } } });

    // The tool that needs a person: held until `mcp-warden approve` (the admin API on loopback).
    const held = client.callTool({ name: "reset_mock_data", arguments: { dataset: "empty" } });
    let pending: { name: string } | undefined;
    for (let i = 0; i < 200 && pending === undefined; i++) {
      const listedApprovals = (await (await fetch(`http://127.0.0.1:${ADMIN_PORT}/v1/approvals`)).json()) as { items: { name: string; phase: string }[] };
      pending = listedApprovals.items.find((a) => a.phase === "Pending");
      if (pending === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    const approve = await run(process.execPath, [join(repoRoot(), "dist", "cli", "main.js"), "approve", pending!.name]);
    expect(approve.stdout).toContain(`approval ${pending!.name} approved`);
    const approved = await held;
    expect(approved.isError).toBeFalsy();
    expect(approved.content).toEqual([{ type: "text", text: "reset the mock API's data set to empty" }]);

    const metrics = await (await fetch(`http://127.0.0.1:${ADMIN_PORT}/metrics`)).text();
    expect(metrics).toContain('mcpwarden_approvals_total{tool="reset_mock_data",outcome="approved"} 1');
    expect(metrics).toContain('mcpwarden_tool_calls_total{tool="list_runs",decision="allow",policy="demo",mode="enforce"} 1');
    expect(metrics).toContain('mcpwarden_tool_calls_total{tool="deploy_mock_api",decision="deny",policy="demo",mode="enforce"} 1');
    expect(metrics).toContain('mcpwarden_tool_calls_total{tool="run_test_iteration",decision="allow",policy="demo",mode="enforce"} 11');
    expect(metrics).toContain('mcpwarden_tool_calls_total{tool="run_test_iteration",decision="rate_limited",policy="demo",mode="enforce"} 1');
    expect(metrics).toContain('mcpwarden_rate_limit_hits_total{tool="run_test_iteration",counter="run_test_iteration_rate"} 1');
    expect((await fetch(`http://127.0.0.1:${ADMIN_PORT}/readyz`)).status).toBe(200);

    // One readable line per decision.
    await new Promise((r) => setTimeout(r, 200));
    expect(output).toMatch(/ALLOW\s+list_runs/);
    expect(output).toMatch(/DENY\s+deploy_mock_api/);
    expect(output).toMatch(/RATE_LIMITED\s+run_test_iteration .*caller=alice.*reached: at most 10 calls per minute/);

    // The demo, and the demo MCP server the stdio bridge spawned for our session.
    const running = await descendants(child.pid!);
    expect(running.some((p) => p.command.includes("run-demo.js")), JSON.stringify(running)).toBe(true);
    expect(running.some((p) => p.command.includes("demo-server.js")), JSON.stringify(running)).toBe(true);

    process.kill(-child.pid!, "SIGINT");
    const { code, signal } = await exited;
    expect({ code, signal }, output).toEqual({ code: 0, signal: null });
    expect(output).toContain("[demo] stopped");
    for (const p of running) expect(processAlive(p.pid), `${p.pid} ${p.command} still running`).toBe(false);
    expect(await portInUse(MCP_PORT)).toBe(false);
    expect(await portInUse(ADMIN_PORT)).toBe(false);
    await client.close().catch(() => undefined);
  }, 300_000);
});
