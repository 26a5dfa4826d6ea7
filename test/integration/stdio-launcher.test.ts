// A stdio MCP server behind mcp-warden-launcher (launcher/, built with gcc as the image
// builds it) and the sidecar's bridge with --upstream-socket: what runs in a pod whose
// server speaks stdio (ADR 12), here on one machine. Real MCP SDK clients; the feature
// server records which process received what.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManagedProcess } from "../harness/managed-process.ts";
import { repoRoot } from "../harness/index.ts";
import { FEATURE_STDIO_SERVER, startProxy, type ProxyUnderTest } from "../support/mcp-proxy-harness.ts";
import { processAlive } from "../support/process-alive.ts";

const launcher = execFileSync(join(repoRoot(), "tools", "build-launcher.sh"), { encoding: "utf8" }).trim();
const dir = mkdtempSync(join(tmpdir(), "mcp-warden-launcher-"));
/** What to stop after the file, newest first. */
const running: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const stop of running.reverse()) await stop();
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, check: () => T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

let launched = 0;
/** The launcher in front of `command`, and the sidecar's proxy on its socket. */
async function launch(command: string[], env: NodeJS.ProcessEnv = {}, extra: Parameters<typeof startProxy>[2] = {}): Promise<{ process: ManagedProcess; sidecar: ProxyUnderTest; socket: string }> {
  const name = `launcher-${++launched}`;
  const socket = join(dir, `${name}.sock`);
  const process_ = new ManagedProcess({ name, command: launcher, args: ["--socket", socket, "--", ...command], logFile: join(dir, `${name}.log`), env: { ...process.env, ...env } });
  running.push(() => process_.stop());
  await process_.waitForLog(/"msg":"listening/, 10_000);
  const sidecar = await startProxy({ socket }, undefined, extra);
  running.push(() => sidecar.close());
  return { process: process_, sidecar, socket };
}

async function connect(url: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: "agent", version: "1" });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return { client, transport };
}

interface Received {
  pid: number;
  message: { method?: string; params?: { name?: string; arguments?: { text?: string } } };
}

describe("a stdio MCP server through mcp-warden-launcher", () => {
  let process_: ManagedProcess;
  let sidecar: ProxyUnderTest;
  let socket: string;
  const record = join(dir, "received.jsonl");
  beforeAll(async () => {
    ({ process: process_, sidecar, socket } = await launch([process.execPath, FEATURE_STDIO_SERVER], { MCP_RECORD_FILE: record, MCP_SLOW_TOOL_MS: "600000" }));
  });

  it("listens on a socket the sidecar's user may connect to", () => {
    expect(statSync(socket).mode & 0o777).toBe(0o666);
  });

  it("runs a separate server process for each of two concurrent sessions, and ends each with its session", async () => {
    const [a, b] = await Promise.all([connect(sidecar.url), connect(sidecar.url)]);
    const sessions = sidecar.proxy.stdioSessions();
    expect(sessions).toHaveLength(2);
    const pids = sessions.map((session) => session.pid as number);
    expect(new Set(pids).size).toBe(2);
    for (const pid of pids) expect(processAlive(pid)).toBe(true);

    const [fromA, fromB] = await Promise.all([
      a.client.callTool({ name: "echo", arguments: { text: "from a" } }),
      b.client.callTool({ name: "echo", arguments: { text: "from b" } }),
    ]);
    expect(fromA).toEqual({ content: [{ type: "text", text: "from a" }] });
    expect(fromB).toEqual({ content: [{ type: "text", text: "from b" }] });
    const received = readFileSync(record, "utf8").trim().split("\n").map((line) => JSON.parse(line) as Received);
    for (const pid of pids) {
      const own = received.filter((entry) => entry.pid === pid);
      expect(own.filter((entry) => entry.message.method === "initialize")).toHaveLength(1);
      expect(own.filter((entry) => entry.message.method === "tools/call")).toHaveLength(1);
    }
    // The launcher logs each start (its log is the server container's log in a pod).
    const log = readFileSync(process_.logFile, "utf8");
    for (const pid of pids) expect(log).toContain(`"serverPid":${pid},"sessions":`);

    const pidA = sidecar.proxy.stdioSessions().find((session) => session.id === a.transport.sessionId)?.pid as number;
    await a.transport.terminateSession();
    await until("session a's process to end", () => !processAlive(pidA));
    expect(sidecar.proxy.stdioSessions().map((session) => session.id)).toEqual([b.transport.sessionId]);
    await b.transport.terminateSession();
    await Promise.all([a.client.close(), b.client.close()]);
  });

  it("serves a legacy HTTP+SSE client too: the event stream is the session, and its process ends with it", async () => {
    const client = new Client({ name: "legacy-agent", version: "1" });
    await client.connect(new SSEClientTransport(new URL(`${sidecar.origin}/sse`)));
    const pid = await until("the legacy session's process", () => sidecar.proxy.stdioSessions()[0]?.pid);
    expect(await client.callTool({ name: "echo", arguments: { text: "legacy" } })).toEqual({ content: [{ type: "text", text: "legacy" }] });
    await client.close();
    await until("the legacy session's process to end", () => !processAlive(pid));
    expect(sidecar.proxy.stdioSessions()).toHaveLength(0);
  });

  it("gives a session whose server process is killed a JSON-RPC error for its call in flight, and a new session a working server", async () => {
    const { client, transport } = await connect(sidecar.url);
    const pid = sidecar.proxy.stdioSessions().find((session) => session.id === transport.sessionId)?.pid as number;
    const call = client.callTool({ name: "slow", arguments: {} });
    await until("the slow call to reach the server", () => readFileSync(record, "utf8").split("\n").some((line) => line.includes(`"pid":${pid}`) && line.includes('"name":"slow"')));
    process.kill(pid, "SIGKILL");
    await expect(call).rejects.toThrow(/MCP error -32000: the MCP server process \(pid \d+ in the server container\) ended/);
    // The session is gone with its process; the client is told so on its next request.
    await expect(client.callTool({ name: "echo", arguments: { text: "again" } })).rejects.toThrow(/Session not found/);
    await client.close();

    const fresh = await connect(sidecar.url);
    expect(await fresh.client.callTool({ name: "echo", arguments: { text: "fresh" } })).toEqual({ content: [{ type: "text", text: "fresh" }] });
    await fresh.transport.terminateSession();
    await fresh.client.close();
    expect(readFileSync(process_.logFile, "utf8")).toMatch(new RegExp(`"serverPid":${pid},"signal":9,"msg":"the MCP server of a session was ended by signal 9`));
  });

  it("ends a process that ignores end-of-file on stdin: SIGTERM to its group after the session ends", async () => {
    const { client, transport } = await connect(sidecar.url);
    const pid = sidecar.proxy.stdioSessions().find((session) => session.id === transport.sessionId)?.pid as number;
    // The feature server exits on end-of-file; a stopped process cannot, so the launcher's signals end it.
    process.kill(pid, "SIGSTOP");
    await transport.terminateSession();
    await until("the stopped process to be ended", () => !processAlive(pid));
    await client.close();
    await process_.waitForLog(new RegExp(`"serverPid":${pid},"signal":(15|9),`), 10_000);
  });
});

describe("stateless (MCP 2026-07-28) requests through mcp-warden-launcher", () => {
  it("share one server process, started on first use, with each client's id put back", async () => {
    const server = join(repoRoot(), "test", "support", "mcp-stateless-server-stdio.ts");
    const { process: process_, sidecar } = await launch([process.execPath, server]);
    const call = async (id: string): Promise<{ id?: unknown; result?: { structuredContent?: { arguments?: unknown } } }> => {
      const response = await fetch(sidecar.url, {
        method: "POST",
        headers: { accept: "application/json", "content-type": "application/json", "mcp-protocol-version": "2026-07-28" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: { text: id }, _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } } }),
      });
      return (await response.json()) as { id?: unknown; result?: { structuredContent?: { arguments?: unknown } } };
    };
    const [a, b] = await Promise.all([call("a"), call("b")]);
    expect([a.id, a.result?.structuredContent?.arguments]).toEqual(["a", { text: "a" }]);
    expect([b.id, b.result?.structuredContent?.arguments]).toEqual(["b", { text: "b" }]);
    expect(sidecar.proxy.stdioSessions()).toEqual([]);
    expect(readFileSync(process_.logFile, "utf8").match(/"msg":"started the MCP server for a session"/g)).toHaveLength(1);
  });
});

describe("mcp-warden-launcher refusing to hang a client", () => {
  it("answers initialize with a JSON-RPC error when the server exits at once, and logs its exit code", async () => {
    const { process: process_, sidecar } = await launch(["sh", "-c", "echo 'the server cannot start: no config' >&2; exit 3"]);
    const error = await connect(sidecar.url).then(
      () => undefined,
      (reason: unknown) => reason as Error,
    );
    // Ended before or after the sidecar read the launcher's first line (which names the pid).
    expect(error?.message).toMatch(/MCP error -32000: the MCP server process (\(pid \d+ in the server container\) ended|ended as it started); its exit status is in the server container's log/);
    await process_.waitForLog(/"exitCode":3,"msg":"the MCP server of a session exited with code 3"/, 10_000);
    expect(readFileSync(process_.logFile, "utf8")).toContain("the server cannot start: no config");
  });

  it("answers an initialize the server never answers with a timeout error for its id", async () => {
    const { sidecar } = await launch(["sleep", "600"], {}, { upstreamTimeoutMs: 1_000 });
    const response = await fetch(sidecar.url, {
      method: "POST",
      headers: { accept: "application/json, text/event-stream", "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: "init-1", method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } }),
    });
    const text = await response.text();
    const payload = JSON.parse(text.includes("data: ") ? (text.split("data: ")[1] as string).split("\n")[0] as string : text) as { id: unknown; error?: { code: number; message: string } };
    expect(payload.id).toBe("init-1");
    expect(payload.error?.message).toBe("the MCP server did not answer within 1 s");
  });

  it("exits 127 naming a command that is not there (the kubelet restarts it with a back-off Event)", async () => {
    const result = (() => {
      try {
        execFileSync(launcher, ["--socket", join(dir, "never.sock"), "--", "no-such-mcp-server", "--stdio"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        return { code: 0, stderr: "" };
      } catch (error) {
        const failed = error as { status: number; stderr: string };
        return { code: failed.status, stderr: failed.stderr };
      }
    })();
    expect(result.code).toBe(127);
    expect(result.stderr).toContain('"msg":"cannot run the MCP server: no-such-mcp-server is not an executable file on PATH"');
    expect(existsSync(join(dir, "never.sock"))).toBe(false);
  });

  it("answers with a JSON-RPC error when nothing listens on the socket", async () => {
    const sidecar = await startProxy({ socket: join(dir, "nobody.sock") });
    running.push(() => sidecar.close());
    await expect(connect(sidecar.url)).rejects.toThrow(/the launcher at .*nobody\.sock does not answer \(ENOENT\)/);
  }, 30_000);

  it("waits for a launcher that starts after the sidecar (the pod's order: the sidecar first)", async () => {
    const socket = join(dir, "late.sock");
    const sidecar = await startProxy({ socket });
    running.push(() => sidecar.close());
    const session = connect(sidecar.url);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const late = new ManagedProcess({ name: "late", command: launcher, args: ["--socket", socket, "--", process.execPath, FEATURE_STDIO_SERVER], logFile: join(dir, "late.log") });
    running.push(() => late.stop());
    const { client, transport } = await session;
    expect(await client.callTool({ name: "echo", arguments: { text: "late" } })).toEqual({ content: [{ type: "text", text: "late" }] });
    await transport.terminateSession();
    await client.close();
  });

  it("installs itself where the injected init container asks (--install)", () => {
    const target = join(dir, "installed-launcher");
    const log = execFileSync(launcher, ["--install", target], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(log).toBe("");
    expect(statSync(target).mode & 0o777).toBe(0o755);
    expect(readFileSync(target)).toEqual(readFileSync(launcher));
  });

  it("ends every session's process and stops on SIGTERM (the kubelet stopping the container)", async () => {
    const socket = join(dir, "term.sock");
    const child = spawn(launcher, ["--socket", socket, "--", process.execPath, FEATURE_STDIO_SERVER], { stdio: ["ignore", "ignore", "pipe"] });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await until("the launcher to listen", () => existsSync(socket));
    const sidecar = await startProxy({ socket });
    running.push(() => sidecar.close());
    const { client, transport } = await connect(sidecar.url);
    const pid = sidecar.proxy.stdioSessions().find((session) => session.id === transport.sessionId)?.pid as number;
    expect(processAlive(pid)).toBe(true);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(processAlive(pid)).toBe(false);
    expect(existsSync(socket)).toBe(false);
    await client.close();
  });
});
