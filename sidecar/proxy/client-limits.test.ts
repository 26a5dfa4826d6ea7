// What a hostile or careless client cannot do to the sidecar (issue 11): hold more
// connections than --max-connections (the next is answered 503 with Retry-After), open
// more sessions than --max-sessions (503 until one ends or idles out), send its headers
// or body slowly enough to hold a socket forever (dropped with 408 after --header-timeout
// / --body-timeout) — while a long-lived GET stream and a slow upstream answer run on
// untouched — or smuggle a `__proto__` key past the policy.

import { connect, type Socket } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { calledTools, startFeatureHttpServer, type FeatureHttpServer } from "../../test/support/mcp-feature-server.ts";
import { ALLOW_ALL_POLICY, FEATURE_STDIO_SERVER, initializeSession, startProxy, until, type ProxyUnderTest } from "../../test/support/mcp-proxy-harness.ts";
import { rawHttp } from "../../test/support/sidecar-process.ts";

const INITIALIZE = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } };
const HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

let upstream: FeatureHttpServer;
const opened: Socket[] = [];
const proxies: ProxyUnderTest[] = [];

beforeAll(async () => {
  upstream = await startFeatureHttpServer();
});
afterEach(async () => {
  for (const socket of opened.splice(0)) socket.destroy();
  for (const proxy of proxies.splice(0)) await proxy.close();
});
afterAll(async () => {
  await upstream.close();
});

async function proxyWith(extra: Parameters<typeof startProxy>[2], stdio = false): Promise<ProxyUnderTest> {
  const proxy = await startProxy(stdio ? { command: process.execPath, args: [FEATURE_STDIO_SERVER] } : { url: upstream.url }, ALLOW_ALL_POLICY, extra);
  proxies.push(proxy);
  return proxy;
}

function port(proxy: ProxyUnderTest): number {
  return Number(new URL(proxy.origin).port);
}

/** A TCP connection that sends `text` (maybe nothing) and stays open; resolves when connected. */
async function openSocket(proxy: ProxyUnderTest, text = ""): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port(proxy), "127.0.0.1");
  opened.push(socket);
  let received = "";
  socket.on("data", (chunk) => (received += chunk.toString("latin1")));
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  if (text !== "") socket.write(text);
  return { socket, received: () => received, closed };
}

function initializeRequest(): string {
  const body = JSON.stringify(INITIALIZE);
  return `POST /mcp HTTP/1.1\r\nHost: s\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

describe("--max-connections", () => {
  it("answers the connection over the cap 503 with Retry-After, and takes new ones once one closes", async () => {
    const proxy = await proxyWith({ limits: { maxConnections: 2 } });
    const first = await openSocket(proxy);
    await openSocket(proxy);
    const refused = await rawHttp(port(proxy), initializeRequest());
    expect(refused.status).toBe(503);
    expect(refused.head).toMatch(/\r\nRetry-After: 1\r\n/i);
    expect(JSON.parse(refused.body)).toMatchObject({ jsonrpc: "2.0", error: { message: expect.stringContaining("--max-connections") } });
    first.socket.destroy();
    await first.closed;
    // The server hears the close on its own side a moment later.
    let accepted = await rawHttp(port(proxy), initializeRequest());
    for (let i = 0; i < 20 && accepted.status === 503; i++) accepted = await rawHttp(port(proxy), initializeRequest());
    expect(accepted.status).toBe(200);
  });
});

describe("--header-timeout and --body-timeout", () => {
  it("drop clients that send their headers or their body too slowly, with 408", async () => {
    const proxy = await proxyWith({ clientTimeouts: { headerTimeoutMs: 400, bodyTimeoutMs: 400 } });
    const slowHeaders = await openSocket(proxy, "POST /mcp HTTP/1.1\r\nHost: s\r\nContent-Type: app");
    const slowBody = await openSocket(proxy, "POST /mcp HTTP/1.1\r\nHost: s\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"jsonrpc\":");
    await Promise.all([slowHeaders.closed, slowBody.closed]);
    expect(slowHeaders.received()).toMatch(/^HTTP\/1\.1 408/);
    expect(slowBody.received()).toMatch(/^HTTP\/1\.1 408/);
    // Nothing of either reached the upstream.
    expect(upstream.received.filter((message) => "method" in message && message.method === "initialize" && JSON.stringify(message).includes("slow-client"))).toEqual([]);
  });

  it("never end a long-lived GET stream or a slow upstream answer", async () => {
    const proxy = await proxyWith({ clientTimeouts: { headerTimeoutMs: 200, bodyTimeoutMs: 200 } });
    const headers = await initializeSession(proxy.url, "2025-06-18");
    const stream = await openSocket(proxy, `GET /mcp HTTP/1.1\r\nHost: s\r\nAccept: text/event-stream\r\nMcp-Session-Id: ${headers["mcp-session-id"]}\r\nMcp-Protocol-Version: 2025-06-18\r\n\r\n`);
    const client = new Client({ name: "slow", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
    // "slow" answers after 2 s: ten times the timeouts.
    expect(await client.callTool({ name: "slow", arguments: {} })).toMatchObject({ content: [{ type: "text" }] });
    expect(stream.received()).toMatch(/^HTTP\/1\.1 200/);
    expect(stream.socket.destroyed).toBe(false);
    await client.close();
  });
});

describe("--max-sessions", () => {
  const initialize = async (proxy: ProxyUnderTest): Promise<Response> => {
    const response = await fetch(proxy.url, { method: "POST", headers: HEADERS, body: JSON.stringify(INITIALIZE) });
    await response.text();
    return response;
  };

  it("refuses a session over the cap with 503 and Retry-After until one is ended", async () => {
    const proxy = await proxyWith({ limits: { maxSessions: 2 } });
    const first = await initialize(proxy);
    expect((await initialize(proxy)).status).toBe(200);
    const refused = await fetch(proxy.url, { method: "POST", headers: HEADERS, body: JSON.stringify(INITIALIZE) });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await refused.json()).toMatchObject({ id: 1, error: { message: expect.stringContaining("--max-sessions") } });
    // Calls on live sessions go on.
    const ended = await fetch(proxy.url, { method: "DELETE", headers: { "mcp-session-id": first.headers.get("mcp-session-id") ?? "" } });
    expect(ended.status).toBe(200);
    expect((await initialize(proxy)).status).toBe(200);
  });

  it("frees the place of a session that idled out", async () => {
    const proxy = await proxyWith({ limits: { maxSessions: 1 }, sessionIdleTimeoutMs: 300 });
    expect((await initialize(proxy)).status).toBe(200);
    expect((await initialize(proxy)).status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await initialize(proxy)).status).toBe(200);
  });

  it("bounds stdio server processes the same way", async () => {
    const proxy = await proxyWith({ limits: { maxSessions: 1 } }, true);
    const client = new Client({ name: "one", version: "1" });
    const transport = new StreamableHTTPClientTransport(new URL(proxy.url));
    await client.connect(transport);
    expect(proxy.proxy.stdioSessions()).toHaveLength(1);
    const second = new Client({ name: "two", version: "1" });
    await expect(second.connect(new StreamableHTTPClientTransport(new URL(proxy.url)))).rejects.toThrow(/503|--max-sessions/);
    expect(proxy.proxy.stdioSessions()).toHaveLength(1);
    // Ending the session ends its process and frees its place.
    await transport.terminateSession();
    await client.close();
    await until(() => proxy.proxy.stdioSessions().length === 0);
    const third = new Client({ name: "three", version: "1" });
    await third.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
    await third.close();
  });
});

describe("__proto__ in a message", () => {
  it("is refused wherever it stands, however it is escaped, and nothing is forwarded", async () => {
    const proxy = await proxyWith({});
    const session = await initializeSession(proxy.url, "2025-06-18");
    const before = calledTools(upstream.received).length;
    for (const args of ['{"__proto__":{"admin":true}}', '{"target":{"__proto__":{"admin":true}}}', '{"\\u005f_proto__":{"admin":true}}', '{"items":[{"__proto__":null}]}']) {
      const body = `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":${args}}}`;
      const response = await fetch(proxy.url, { method: "POST", headers: { ...HEADERS, ...session }, body });
      expect(response.status, args).toBe(400);
      const reply = (await response.json()) as { error: { code: number; message: string } };
      expect(reply.error.code).toBe(-32700);
      expect(reply.error.message).toContain("__proto__");
    }
    expect(calledTools(upstream.received).length).toBe(before);
  });
});
