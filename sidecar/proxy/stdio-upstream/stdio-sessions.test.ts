// The stdio bridge runs one server process per MCP session, and reaps it when the session
// ends: DELETE, the legacy stream closing, the idle timeout, close().

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxy, type ProxyUnderTest } from "../../../test/support/mcp-proxy-harness.ts";
import { processAlive } from "../../../test/support/process-alive.ts";

const FEATURE_STDIO = fileURLToPath(new URL("../../../test/support/mcp-feature-server-stdio.ts", import.meta.url));

async function until(condition: () => boolean, ms = 8_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function connect(url: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: "agent", version: "1" });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return { client, transport };
}

describe("stdio bridge sessions", () => {
  let dir: string;
  let record: string;
  let sidecar: ProxyUnderTest;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "warden-stdio-"));
    record = join(dir, "received.jsonl");
    sidecar = await startProxy({ command: process.execPath, args: [FEATURE_STDIO], env: { MCP_RECORD_FILE: record } });
  });
  afterAll(async () => {
    await sidecar.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves two concurrent sessions with separate processes and reaps each when its session ends", async () => {
    const [a, b] = await Promise.all([connect(sidecar.url), connect(sidecar.url)]);
    const sessions = sidecar.proxy.stdioSessions();
    expect(sessions).toHaveLength(2);
    expect(new Set(sessions.map((session) => session.id)).size).toBe(2);
    const pids = sessions.map((session) => session.pid as number);
    expect(new Set(pids).size).toBe(2);
    expect(a.transport.sessionId).not.toBe(b.transport.sessionId);

    const [fromA, fromB] = await Promise.all([
      a.client.callTool({ name: "echo", arguments: { text: "from a" } }),
      b.client.callTool({ name: "echo", arguments: { text: "from b" } }),
    ]);
    expect(fromA).toEqual({ content: [{ type: "text", text: "from a" }] });
    expect(fromB).toEqual({ content: [{ type: "text", text: "from b" }] });
    // Each process saw its own initialize and only its own session's call.
    const received = readFileSync(record, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { pid: number; message: { method?: string; params?: { arguments?: { text?: string } } } });
    for (const pid of pids) {
      const own = received.filter((entry) => entry.pid === pid);
      expect(own.filter((entry) => entry.message.method === "initialize")).toHaveLength(1);
      expect(own.filter((entry) => entry.message.method === "tools/call")).toHaveLength(1);
    }

    const pidA = sessions.find((session) => session.id === a.transport.sessionId)?.pid as number;
    await a.transport.terminateSession();
    await until(() => !processAlive(pidA));
    expect(sidecar.proxy.stdioSessions().map((session) => session.id)).toEqual([b.transport.sessionId]);
    await expect(a.client.callTool({ name: "echo", arguments: { text: "late" } })).rejects.toThrow(/Mcp-Session-Id header is required|Session not found/);

    const pidB = sidecar.proxy.stdioSessions()[0]?.pid as number;
    await b.transport.terminateSession();
    await until(() => !processAlive(pidB));
    expect(sidecar.proxy.stdioSessions()).toHaveLength(0);
    await a.client.close();
    await b.client.close();
  });

  it("reaps the process when a legacy client closes its event stream", async () => {
    const client = new Client({ name: "agent", version: "1" });
    await client.connect(new SSEClientTransport(new URL(`${sidecar.origin}/sse`)));
    const pid = sidecar.proxy.stdioSessions()[0]?.pid as number;
    expect(processAlive(pid)).toBe(true);
    await client.close();
    await until(() => !processAlive(pid));
    expect(sidecar.proxy.stdioSessions()).toHaveLength(0);
  });

  it("reaps idle sessions, and every session on close()", async () => {
    const idle = await startProxy({ command: process.execPath, args: [FEATURE_STDIO] }, undefined, { sessionIdleTimeoutMs: 500 });
    const first = await connect(idle.url);
    const idlePid = idle.proxy.stdioSessions()[0]?.pid as number;
    await until(() => !processAlive(idlePid));
    expect(idle.proxy.stdioSessions()).toHaveLength(0);
    await first.client.close();
    await idle.close();

    const closing = await startProxy({ command: process.execPath, args: [FEATURE_STDIO] });
    const second = await connect(closing.url);
    const third = await connect(closing.url);
    const pids = closing.proxy.stdioSessions().map((session) => session.pid as number);
    expect(pids).toHaveLength(2);
    await closing.close();
    expect(pids.filter(processAlive)).toEqual([]);
    await second.client.close();
    await third.client.close();
  });
});
