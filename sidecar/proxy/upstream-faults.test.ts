// When the upstream crashes, hangs or drops a stream mid-reply, the client gets a
// JSON-RPC error for its request id, never a hang: over HTTP and over stdio.

import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultServer, type FaultServer } from "../../test/support/mcp-fault-server.ts";
import { ALLOW_ALL_POLICY, startProxy, type ProxyUnderTest } from "../../test/support/mcp-proxy-harness.ts";

const FEATURE_STDIO = fileURLToPath(new URL("../../test/support/mcp-feature-server-stdio.ts", import.meta.url));

async function callError(client: Client, name: string): Promise<{ code: number; message: string }> {
  try {
    // The client would wait a minute; a hang fails the test by its own timeout instead.
    await client.callTool({ name, arguments: {} }, undefined, { timeout: 60_000 });
  } catch (error) {
    // The SDK's own timeout has the same code; only the sidecar's answer counts.
    expect(String(error)).not.toMatch(/Request timed out/);
    if (error instanceof McpError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error(`${name} succeeded`);
}

describe("upstream faults over HTTP", () => {
  let upstream: FaultServer;
  let sidecar: ProxyUnderTest;
  let client: Client;
  beforeAll(async () => {
    upstream = await startFaultServer();
    sidecar = await startProxy({ url: upstream.url }, ALLOW_ALL_POLICY, { upstreamTimeoutMs: 500 });
    client = new Client({ name: "agent", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(sidecar.url)));
  });
  afterAll(async () => {
    await client.close();
    await sidecar.close();
    await upstream.close();
  });

  it("a server that never answers: a timeout error", async () => {
    expect(await callError(client, "hang")).toMatchObject({ code: -32001 });
  });

  it("a server that opens a stream and goes silent: a timeout error", async () => {
    expect(await callError(client, "hang_sse")).toMatchObject({ code: -32001 });
  });

  it("a server that drops the stream mid-reply: a connection-closed error", async () => {
    expect(await callError(client, "crash_sse")).toMatchObject({ code: -32000 });
  });

  it("a server that drops the connection before answering, or mid-body: a connection-closed error", async () => {
    expect(await callError(client, "crash_json")).toMatchObject({ code: -32000 });
    expect(await callError(client, "partial_json")).toMatchObject({ code: -32000 });
  });

  it("still serves afterwards", async () => {
    expect(await client.callTool({ name: "ok", arguments: {} })).toEqual({ content: [{ type: "text", text: "ok" }] });
  });
});

describe("upstream faults over stdio", () => {
  let sidecar: ProxyUnderTest;
  beforeAll(async () => {
    sidecar = await startProxy({ command: process.execPath, args: [FEATURE_STDIO], env: { MCP_CRASH_ON_TOOL: "list_runs", MCP_SLOW_TOOL_MS: "60000" } }, ALLOW_ALL_POLICY, {
      // Well above a loaded machine's process start-up and an echo's round trip (both wait
      // on it), well below the slow tool's 60 s.
      upstreamTimeoutMs: 5_000,
    });
  });
  afterAll(async () => {
    await sidecar.close();
  });

  it("a server process that crashes mid-call: an error for the call, and the session is gone", async () => {
    const client = new Client({ name: "agent", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(sidecar.url)));
    expect(sidecar.proxy.stdioSessions()).toHaveLength(1);
    const error = await callError(client, "list_runs");
    expect(error.code).toBe(-32000);
    expect(error.message).toMatch(/exited/);
    expect(sidecar.proxy.stdioSessions()).toHaveLength(0);
    await client.close();
  });

  it("a server process that does not answer in time: a timeout error, and the server is told to cancel", async () => {
    const client = new Client({ name: "agent", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(sidecar.url)));
    expect(await callError(client, "slow")).toMatchObject({ code: -32001 });
    expect(await client.callTool({ name: "echo", arguments: { text: "still here" } })).toEqual({ content: [{ type: "text", text: "still here" }] });
    await client.close();
  });

  it("a command that cannot start: an error for initialize", async () => {
    const broken = await startProxy({ command: "/nonexistent/mcp-server", args: [] });
    try {
      const client = new Client({ name: "agent", version: "1" });
      await expect(client.connect(new StreamableHTTPClientTransport(new URL(broken.url)))).rejects.toThrow(/could not run|exited/);
    } finally {
      await broken.close();
    }
  });
});
