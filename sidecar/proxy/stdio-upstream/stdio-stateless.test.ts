// Stateless (MCP 2026-07-28) requests through the stdio bridge: no initialize, no session,
// one shared server process, ids and progress tokens of many clients kept apart, the
// policy enforced as on every other path.

import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initializeSession, recordedMessages, startProxy, until, type ProxyUnderTest } from "../../../test/support/mcp-proxy-harness.ts";
import { processAlive as alive } from "../../../test/support/process-alive.ts";
import { startRecordedStdioProxy, type RecordedStdioProxy } from "../../../test/support/stdio-proxy-fixture.ts";

const STATELESS_STDIO = fileURLToPath(new URL("../../../test/support/mcp-stateless-server-stdio.ts", import.meta.url));
const VERSION = "2026-07-28";

const POLICY = `
apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: stateless, namespace: agents }
spec:
  default: allow
  hide: ["secret"]
`;

type Message = Record<string, unknown> & { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string }; params?: Record<string, unknown> };

interface Reply {
  readonly status: number;
  readonly messages: Message[];
}

function meta(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { "io.modelcontextprotocol/protocolVersion": VERSION, "io.modelcontextprotocol/clientCapabilities": {}, ...extra };
}

function request(id: unknown, method: string, params: Record<string, unknown> = {}, metaExtra: Record<string, unknown> = {}): object {
  return { jsonrpc: "2.0", id, method, params: { ...params, _meta: meta(metaExtra) } };
}

async function post(url: string, body: object | string, headers: Record<string, string> = {}): Promise<Reply> {
  const response = await fetch(url, {
    method: "POST",
    headers: { accept: "application/json, text/event-stream", "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if ((response.headers.get("content-type") ?? "").includes("text/event-stream")) {
    const messages = text
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => JSON.parse(line.slice("data: ".length)) as Message);
    return { status: response.status, messages };
  }
  if (text === "") return { status: response.status, messages: [] };
  const value = JSON.parse(text) as Message | Message[];
  return { status: response.status, messages: Array.isArray(value) ? value : [value] };
}

function structured(reply: Reply): Record<string, unknown> {
  const response = reply.messages.find((message) => Object.hasOwn(message, "result") || Object.hasOwn(message, "error"));
  return (response?.result?.["structuredContent"] ?? {}) as Record<string, unknown>;
}

describe("stateless requests through the stdio bridge", () => {
  let fixture: RecordedStdioProxy;
  let sidecar: ProxyUnderTest;
  let record: string;
  beforeAll(async () => {
    fixture = await startRecordedStdioProxy(STATELESS_STDIO, POLICY);
    ({ sidecar, record } = fixture);
  });
  afterAll(() => fixture.close());

  it("answers server/discover and a filtered tools/list without initialize", async () => {
    const discover = await post(sidecar.url, request(1, "server/discover"));
    expect(discover.status).toBe(200);
    expect(discover.messages).toHaveLength(1);
    expect(discover.messages[0]?.id).toBe(1);
    expect(discover.messages[0]?.result?.["supportedVersions"]).toEqual([VERSION]);

    const list = await post(sidecar.url, request("list-1", "tools/list"), { "mcp-protocol-version": VERSION });
    expect(list.messages[0]?.id).toBe("list-1");
    const names = (list.messages[0]?.result?.["tools"] as { name: string }[]).map((tool) => tool.name);
    expect(names).toEqual(["echo", "gate", "ask"]);
    // No session was made: the shared process is not one.
    expect(sidecar.proxy.stdioSessions()).toEqual([]);
  });

  it("answers an allowed call under the client's id, with its _meta intact; unowned server messages are dropped", async () => {
    const reply = await post(sidecar.url, request("mine", "tools/call", { name: "echo", arguments: { text: "hi" } }));
    expect(reply.messages).toHaveLength(1);
    expect(reply.messages[0]?.id).toBe("mine");
    expect(structured(reply)).toMatchObject({ arguments: { text: "hi" }, protocolVersion: VERSION });
    const json = await post(sidecar.url, request(7, "tools/call", { name: "echo", arguments: { text: "json" } }), { accept: "application/json" });
    expect(json.messages).toHaveLength(1);
    expect(json.messages[0]?.id).toBe(7);
    expect(structured(json)).toMatchObject({ arguments: { text: "json" } });
  });

  it("refuses a denied call; the server never receives it", async () => {
    const reply = await post(sidecar.url, request(2, "tools/call", { name: "secret", arguments: { what: "keys" } }));
    expect(reply.messages[0]?.id).toBe(2);
    expect(reply.messages[0]?.result?.["isError"]).toBe(true);
    // Hidden under default: allow: a neutral "not found" that names no policy or rule.
    expect(reply.messages[0]?.result).toEqual({
      content: [{ type: "text", text: 'Tool "secret" not found.' }],
      isError: true,
      _meta: { "mcpwarden.dev/decision": { decision: "deny", policy: "", rule: "", reason: "tool not found" } },
    });
    const calls = (recordedMessages(record) as Message[]).filter((message) => message["method"] === "tools/call");
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((message) => message.params?.["name"] === "secret")).toEqual([]);
  });

  it("keeps two clients' id 1 and progress token apart on the shared process", async () => {
    const call = (label: string): Promise<Reply> => post(sidecar.url, request(1, "tools/call", { name: "gate", arguments: { label, waitFor: 2 } }, { progressToken: "p" }));
    // The gate answers only once both calls wait in the same process, last-come first.
    const [a, b] = await Promise.all([call("a"), call("b")]);
    for (const [reply, label] of [[a, "a"], [b, "b"]] as const) {
      const progress = reply.messages.filter((message) => message["method"] === "notifications/progress");
      expect(progress.map((message) => message.params)).toEqual([{ progressToken: "p", progress: 1, message: label }]);
      const responses = reply.messages.filter((message) => Object.hasOwn(message, "result"));
      expect(responses.map((message) => message.id)).toEqual([1]);
      expect(structured(reply)["label"]).toBe(label);
      expect(reply.messages.filter((message) => message["method"] === "notifications/message")).toEqual([]);
    }
    expect(structured(a)["pid"]).toBe(structured(b)["pid"]);
    // The process saw two different ids and progress tokens, none of them the clients'.
    const gates = (recordedMessages(record) as Message[]).filter((message) => message.params?.["name"] === "gate");
    const ids = gates.map((message) => message.id);
    const tokens = gates.map((message) => (message.params?.["_meta"] as Record<string, unknown>)["progressToken"]);
    expect(new Set(ids).size).toBe(2);
    expect(new Set(tokens).size).toBe(2);
    expect([...ids, ...tokens]).not.toContain(1);
    expect([...ids, ...tokens]).not.toContain("p");
  });

  it("refuses the shared process's requests to a client (sampling is not in stateless core)", async () => {
    const reply = await post(sidecar.url, request(3, "tools/call", { name: "ask", arguments: {} }));
    expect(reply.messages.filter((message) => message["method"] === "sampling/createMessage")).toEqual([]);
    expect(structured(reply)["answer"]).toMatchObject({ code: -32601 });
  });

  it("starts a new shared process after the old one dies", async () => {
    const before = structured(await post(sidecar.url, request(4, "tools/call", { name: "echo", arguments: {} })))["pid"] as number;
    process.kill(before, "SIGKILL");
    await until(() => !alive(before));
    const reply = await post(sidecar.url, request(5, "tools/call", { name: "echo", arguments: { again: true } }));
    expect(reply.messages[0]?.id).toBe(5);
    const after = structured(reply);
    expect(after["pid"]).not.toBe(before);
    expect(after).toMatchObject({ arguments: { again: true }, calls: 1 });
  });

  it("answers malformed or ambiguous bodies with a JSON-RPC error", async () => {
    const broken = await post(sidecar.url, '{"jsonrpc":"2.0","id":1,"method":');
    expect(broken.status).toBe(400);
    expect(broken.messages[0]?.error?.code).toBe(-32700);
    const notStateless = await post(sidecar.url, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(notStateless.status).toBe(400);
    expect(notStateless.messages[0]?.error?.message).toMatch(/Mcp-Session-Id header is required/);
    const badVersion = await post(sidecar.url, { jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: { "io.modelcontextprotocol/protocolVersion": 5 } } });
    expect(badVersion.status).toBe(400);
    expect(badVersion.messages[0]?.error?.code).toBe(-32600);
    const mismatch = await post(sidecar.url, request(1, "tools/list"), { "mcp-protocol-version": "2099-01-01" });
    expect(mismatch.status).toBe(400);
    expect(mismatch.messages[0]?.error?.message).toMatch(/does not match/);
    const batch = await post(sidecar.url, [request(1, "tools/list"), request(2, "tools/list")]);
    expect(batch.status).toBe(400);
    expect(batch.messages[0]?.error?.code).toBe(-32600);
  });

  it("still gives an initialize its own session and process", async () => {
    const shared = structured(await post(sidecar.url, request(6, "tools/call", { name: "echo", arguments: {} })))["pid"] as number;
    const headers = await initializeSession(sidecar.url, "2025-06-18");
    const sessions = sidecar.proxy.stdioSessions();
    expect(sessions.map((session) => session.id)).toEqual([headers["mcp-session-id"]]);
    const own = sessions[0]?.pid as number;
    expect(own).not.toBe(shared);
    const reply = await post(sidecar.url, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { in: "session" } } }, headers);
    expect(structured(reply)).toMatchObject({ pid: own, calls: 1, arguments: { in: "session" } });
  });

  it("stops the shared process when the sidecar shuts down", async () => {
    const closing = await startProxy({ command: process.execPath, args: [STATELESS_STDIO] }, POLICY);
    const pid = structured(await post(closing.url, request(1, "tools/call", { name: "echo", arguments: {} })))["pid"] as number;
    expect(alive(pid)).toBe(true);
    await closing.close();
    expect(alive(pid)).toBe(false);
  });
});
