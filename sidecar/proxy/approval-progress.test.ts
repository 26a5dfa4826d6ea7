// Progress while a call is held for approval, through a real proxy to a real MCP server,
// with real SDK clients on every transport: a client that gave a progress token hears
// "waiting for approval NAME" on the stream that then carries the answer (the upstream's
// result when approved, the readable refusal otherwise); one without a token hears
// nothing. Notifications are counted, never timed.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage, Progress } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApprovalGate } from "../approvals/approval-gate.ts";
import { LocalApprovalDesk } from "../approvals/local-approval-desk.ts";
import { calledTools, startFeatureHttpServer, type FeatureHttpServer } from "../../test/support/mcp-feature-server.ts";
import { APPROVALS_POLICY, decideWhenFiled, FEATURE_STDIO_SERVER, initializeSession, pendingApproval, recordedMessages, startProxy, until, type ProxyUnderTest } from "../../test/support/mcp-proxy-harness.ts";

const WAITING = /^waiting for approval (\S+) \(pending \d+ s\)$/;

interface ToolResult {
  isError?: boolean;
  content: { type: string; text: string }[];
  _meta?: Record<string, unknown>;
}

function setUpGate(): { desk: LocalApprovalDesk; gate: ApprovalGate } {
  const desk = new LocalApprovalDesk();
  return { desk, gate: new ApprovalGate({ desk, progressIntervalMs: 50 }) };
}

/** Progress seen by one call, and the approval named in the first. */
function progressLog(): { seen: Progress[]; onprogress: (progress: Progress) => void; approval: Promise<string> } {
  const seen: Progress[] = [];
  let named: (name: string) => void = () => undefined;
  const approval = new Promise<string>((resolve) => (named = resolve));
  return {
    seen,
    approval,
    onprogress: (progress) => {
      seen.push(progress);
      const match = WAITING.exec(progress.message ?? "");
      if (match?.[1] !== undefined) named(match[1]);
    },
  };
}

async function connected(transport: Transport): Promise<Client> {
  const client = new Client({ name: "agent", version: "1" });
  await client.connect(transport);
  return client;
}

/** The held-call cases every transport must pass. */
function heldCallCases(context: () => { client: Client; desk: LocalApprovalDesk; called: () => string[] }): void {
  it("a client with a progress token hears that the call waits, then gets the approved result", async () => {
    const { client, desk, called } = context();
    const log = progressLog();
    const before = called().length;
    const held = client.callTool({ name: "deploy", arguments: { target: "prod" } }, undefined, { onprogress: log.onprogress });
    const name = await log.approval;
    expect(called().length).toBe(before);
    expect(desk.decide(name, "approve", "bob")).toMatchObject({ ok: true });
    const result = (await held) as ToolResult;
    expect(result.isError).toBeFalsy();
    expect(result.content[0]?.text).toBe('deploy ran with {"target":"prod"}');
    expect(called().length).toBe(before + 1);
    expect(log.seen.length).toBeGreaterThanOrEqual(1);
    log.seen.forEach((progress, index) => {
      expect(progress.progress).toBe(index + 1);
      expect(progress.message).toMatch(WAITING);
    });
  });

  it("a denied call still ends with the readable refusal after the progress", async () => {
    const { client, desk, called } = context();
    const log = progressLog();
    const before = called().length;
    const held = client.callTool({ name: "deploy", arguments: { target: "friday" } }, undefined, { onprogress: log.onprogress });
    desk.decide(await log.approval, "deny", "bob", "not on a Friday");
    const result = (await held) as ToolResult;
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toMatch(/was denied by bob: not on a Friday/);
    expect(result._meta?.["mcpwarden.dev/decision"]).toMatchObject({ decision: "deny", rule: 'tools["deploy"]' });
    expect(log.seen.length).toBeGreaterThanOrEqual(1);
    expect(called().length).toBe(before);
  });

  it("an expired approval is a refusal after the progress", async () => {
    const { client } = context();
    const log = progressLog();
    const result = (await client.callTool({ name: "delete_all", arguments: {} }, undefined, { onprogress: log.onprogress })) as ToolResult;
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toMatch(/expired without a decision/);
    expect(log.seen.length).toBeGreaterThanOrEqual(1);
  });

  it("a client without a progress token is held without progress", async () => {
    const { client, desk } = context();
    const errors: Error[] = [];
    client.onerror = (error) => errors.push(error);
    const unasked: unknown[] = [];
    client.fallbackNotificationHandler = async (notification) => void unasked.push(notification);
    const held = client.callTool({ name: "deploy", arguments: { target: "quiet" } });
    await decideWhenFiled(desk, "quiet", "approve");
    expect(((await held) as ToolResult).content[0]?.text).toBe('deploy ran with {"target":"quiet"}');
    expect(errors.map((error) => error.message).filter((message) => /progress/i.test(message))).toEqual([]);
    expect(unasked).toEqual([]);
  });
}

describe("progress while held: HTTP upstream", () => {
  let upstream: FeatureHttpServer;
  let sidecar: ProxyUnderTest;
  const { desk, gate } = setUpGate();
  const clients: Client[] = [];

  beforeAll(async () => {
    upstream = await startFeatureHttpServer();
    sidecar = await startProxy({ url: upstream.url }, APPROVALS_POLICY, { approvals: gate });
  });
  afterAll(async () => {
    for (const client of clients) await client.close();
    await sidecar.close();
    await upstream.close();
  });

  describe("Streamable HTTP, the server answering with SSE", () => {
    let client: Client;
    beforeAll(async () => {
      client = await connected(new StreamableHTTPClientTransport(new URL(sidecar.url)));
      clients.push(client);
    });
    heldCallCases(() => ({ client, desk, called: () => calledTools(upstream.received) }));

    it("relays the server's own progress after the sidecar's, on the same stream", async () => {
      const log = progressLog();
      const held = client.callTool({ name: "progress", arguments: { steps: 2 } }, undefined, { onprogress: log.onprogress });
      desk.decide(await log.approval, "approve", "bob");
      expect(((await held) as ToolResult).content[0]?.text).toBe("done in 2 steps");
      const messages = log.seen.map((progress) => progress.message ?? "");
      expect(messages.slice(-2)).toEqual(["step 1", "step 2"]);
      expect(messages.slice(0, -2).every((message) => WAITING.test(message))).toBe(true);
    });
  });

  describe("Streamable HTTP, the server answering with JSON", () => {
    let client: Client;
    beforeAll(async () => {
      upstream.jsonResponses = true;
      client = await connected(new StreamableHTTPClientTransport(new URL(sidecar.url)));
      upstream.jsonResponses = false;
      clients.push(client);
    });
    heldCallCases(() => ({ client, desk, called: () => calledTools(upstream.received) }));
  });

  describe("legacy HTTP+SSE", () => {
    let client: Client;
    beforeAll(async () => {
      client = await connected(new SSEClientTransport(new URL(`${sidecar.origin}/sse`)));
      clients.push(client);
    });
    heldCallCases(() => ({ client, desk, called: () => calledTools(upstream.received) }));
  });

  describe("on the wire (Streamable HTTP)", () => {
    const initialize = (protocolVersion: string): Promise<Record<string, string>> => initializeSession(sidecar.url, protocolVersion);
    const deployCall = (id: number, token?: string): object => ({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name: "deploy", arguments: { target: `wire-${id}` }, ...(token === undefined ? {} : { _meta: { progressToken: token } }) },
    });
    const post = (body: unknown, headers: Record<string, string>, accept = "application/json, text/event-stream", signal?: AbortSignal): Promise<Response> =>
      fetch(sidecar.url, { method: "POST", headers: { accept, "content-type": "application/json", ...headers }, body: JSON.stringify(body), ...(signal === undefined ? {} : { signal }) });
    const events = (text: string): Record<string, unknown>[] =>
      text
        .split("\n")
        .filter((line) => line.startsWith("data: ") && line.length > 6)
        .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);

    it("progress events carry the client's token and count up; the answer follows; the session header is kept", async () => {
      const headers = await initialize("2025-06-18");
      const reply = post(deployCall(1, "tok-1"), headers);
      await decideWhenFiled(desk, "wire-1", "approve");
      const response = await reply;
      expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
      expect(response.headers.get("mcp-session-id")).toBe(headers["mcp-session-id"]);
      const messages = events(await response.text());
      const progress = messages.filter((message) => message["method"] === "notifications/progress");
      expect(progress.length).toBeGreaterThanOrEqual(1);
      progress.forEach((message, index) => expect(message["params"]).toMatchObject({ progressToken: "tok-1", progress: index + 1, message: expect.stringMatching(WAITING) }));
      expect(messages.at(-1)).toMatchObject({ id: 1, result: { content: [{ text: 'deploy ran with {"target":"wire-1"}' }] } });
    });

    it("no progress without a token, nor when the client does not accept an event stream", async () => {
      const headers = await initialize("2025-06-18");
      const quiet = post(deployCall(2), headers);
      await decideWhenFiled(desk, "wire-2", "approve");
      expect(await (await quiet).text()).not.toContain("notifications/progress");
      const json = post(deployCall(3, "tok-3"), headers, "application/json");
      await decideWhenFiled(desk, "wire-3", "deny");
      const response = await json;
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await response.json()).toMatchObject({ id: 3, result: { isError: true } });
    });

    it("a batch: progress for the held call, then every element's answer", async () => {
      const headers = await initialize("2025-03-26");
      const reply = post([deployCall(4, "tok-4"), { jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "echo", arguments: { text: "beside" } } }], headers);
      await decideWhenFiled(desk, "wire-4", "approve");
      const messages = events(await (await reply).text());
      expect(messages[0]).toMatchObject({ method: "notifications/progress", params: { progressToken: "tok-4" } });
      const answers = messages.filter((message) => "id" in message);
      expect(answers.map((message) => message["id"]).sort()).toEqual([4, 5]);
      expect(answers.find((message) => message["id"] === 5)).toMatchObject({ result: { content: [{ text: "beside" }] } });
    });

    it("a client that leaves while held ends the hold (it is not told again); the sidecar goes on serving", async () => {
      const headers = await initialize("2025-06-18");
      const abort = new AbortController();
      const response = await post(deployCall(6, "tok-6"), headers, undefined, abort.signal);
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      let seen = "";
      while (!seen.includes("notifications/progress")) seen += new TextDecoder().decode((await reader.read()).value);
      const name = await pendingApproval(desk, "wire-6");
      abort.abort();
      await until(() => sidecar.decisions.some((record) => record.decision.reason.includes(`the client left while approval ${name} was pending`)));
      desk.decide(name, "deny", "bob");
      const after = post(deployCall(7, "tok-7"), headers);
      await decideWhenFiled(desk, "wire-7", "approve");
      expect(events(await (await after).text()).at(-1)).toMatchObject({ id: 7, result: { content: [{ text: 'deploy ran with {"target":"wire-7"}' }] } });
    });
  });
});

describe("progress while held: stdio upstream (the bridge)", () => {
  let sidecar: ProxyUnderTest;
  const { desk, gate } = setUpGate();
  const clients: Client[] = [];
  const dir = mkdtempSync(join(tmpdir(), "mcpwarden-progress-"));
  const record = join(dir, "received.jsonl");
  /** What the server processes received (their recorder file). */
  const called = (): string[] => calledTools(recordedMessages(record) as JSONRPCMessage[]);
  beforeAll(async () => {
    sidecar = await startProxy({ command: process.execPath, args: [FEATURE_STDIO_SERVER], env: { MCP_RECORD_FILE: record } }, APPROVALS_POLICY, { approvals: gate });
  });
  afterAll(async () => {
    for (const client of clients) await client.close();
    await sidecar.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("Streamable HTTP", () => {
    let client: Client;
    beforeAll(async () => {
      client = await connected(new StreamableHTTPClientTransport(new URL(sidecar.url)));
      clients.push(client);
    });
    heldCallCases(() => ({ client, desk, called }));
  });

  describe("legacy HTTP+SSE", () => {
    let client: Client;
    beforeAll(async () => {
      client = await connected(new SSEClientTransport(new URL(`${sidecar.origin}/sse`)));
      clients.push(client);
    });
    heldCallCases(() => ({ client, desk, called }));
  });
});
