// A call held for approval whose client disconnects is never made, through a real proxy to
// a real MCP server, with real SDK clients on every transport: the hold ends when the
// client leaves (the decision record says so, the metrics count it timed_out), a person
// then approves, and the server never sees the call; a new client of the same caller
// making the identical call within the approval's lifetime joins that approval and passes
// once. Nothing here is timed: tests wait for records and results.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApprovalGate } from "../approvals/approval-gate.ts";
import { LocalApprovalDesk } from "../approvals/local-approval-desk.ts";
import { startFeatureHttpServer, type FeatureHttpServer } from "../../test/support/mcp-feature-server.ts";
import { APPROVALS_POLICY, FEATURE_STDIO_SERVER, pendingApproval, recordedMessages, startProxy, until, type ProxyUnderTest } from "../../test/support/mcp-proxy-harness.ts";

// The caller is who the x-agent-id header says: every client of this test is one caller.
const POLICY = `${APPROVALS_POLICY}  identity: { source: header, header: x-agent-id }\n`;

const CALLER = { "x-agent-id": "agent-7" };

interface ToolResult {
  isError?: boolean;
  content: { type: string; text: string }[];
}

type TransportKind = "streamable" | "legacy";

/** A gate over a desk decided by hand, with the approval outcomes it counted. */
function setUpGate(): { desk: LocalApprovalDesk; gate: ApprovalGate; outcomes: string[] } {
  const desk = new LocalApprovalDesk();
  const outcomes: string[] = [];
  const gate = new ApprovalGate({ desk, progressIntervalMs: 50, metrics: { approvalRequested: () => undefined, approvalFinished: (_tool, outcome) => void outcomes.push(outcome) } });
  return { desk, gate, outcomes };
}

async function connect(sidecar: ProxyUnderTest, kind: TransportKind): Promise<Client> {
  const transport: Transport =
    kind === "streamable"
      ? new StreamableHTTPClientTransport(new URL(sidecar.url), { requestInit: { headers: CALLER } })
      : new SSEClientTransport(new URL(`${sidecar.origin}/sse`), { requestInit: { headers: CALLER } });
  const client = new Client({ name: "agent", version: "1" });
  await client.connect(transport);
  return client;
}

/** The deploy calls a server received for `target`. */
function deploysOf(messages: readonly unknown[], target: string): number {
  return messages.filter((message) => {
    const call = message as { method?: unknown; params?: { name?: unknown; arguments?: { target?: unknown } } };
    return call.method === "tools/call" && call.params?.name === "deploy" && call.params.arguments?.target === target;
  }).length;
}

interface Setting {
  readonly sidecar: ProxyUnderTest;
  readonly desk: LocalApprovalDesk;
  readonly outcomes: string[];
  /** What the upstream received so far. */
  received(): readonly unknown[];
}

/** A client holds a call and disconnects; a person approves; the identical retry of a new client passes once. */
function leaveThenRetry(setting: () => Setting, kind: TransportKind, target: string, withProgress: boolean): void {
  it(`${withProgress ? "with" : "without"} progress: the call is not made, and the identical retry of a new client runs once`, async () => {
    const { sidecar, desk, outcomes, received } = setting();
    const leaving = await connect(sidecar, kind);
    const held = leaving.callTool({ name: "deploy", arguments: { target } }, undefined, withProgress ? { onprogress: () => undefined } : undefined).then(
      () => "answered",
      () => "gone",
    );
    const name = await pendingApproval(desk, target);
    const timedOutBefore = outcomes.filter((outcome) => outcome === "timed_out").length;
    await leaving.close();
    expect(await held).toBe("gone");
    await until(() => sidecar.decisions.some((record) => record.decision.reason.includes(`the client left while approval ${name} was pending`)));
    const left = sidecar.decisions.find((record) => record.decision.reason.includes(`approval ${name}`));
    expect(left).toMatchObject({ tool: "deploy", callerId: "agent-7", decision: { decision: "approval_required" } });
    expect(outcomes.filter((outcome) => outcome === "timed_out")).toHaveLength(timedOutBefore + 1);

    expect(desk.decide(name, "approve", "bob")).toMatchObject({ ok: true });
    expect(deploysOf(received(), target)).toBe(0);

    const retrying = await connect(sidecar, kind);
    try {
      const result = (await retrying.callTool({ name: "deploy", arguments: { target } })) as ToolResult;
      expect(result.isError).toBeFalsy();
      expect(result.content[0]?.text).toBe(`deploy ran with {"target":"${target}"}`);
      expect(sidecar.decisions.at(-1)).toMatchObject({ decision: { decision: "allow", reason: `approved by bob (approval ${name})` } });
      expect(deploysOf(received(), target)).toBe(1);
      // The approval let one call through: a third identical call asks a person again.
      const third = retrying.callTool({ name: "deploy", arguments: { target } });
      const again = await pendingApproval(desk, target);
      expect(again).not.toBe(name);
      desk.decide(again, "deny", "bob");
      expect(((await third) as ToolResult).isError).toBe(true);
      expect(deploysOf(received(), target)).toBe(1);
    } finally {
      await retrying.close();
    }
  });
}

function clientGoneCases(setting: () => Setting, kind: TransportKind, prefix: string): void {
  leaveThenRetry(setting, kind, `${prefix}-quiet`, false);
  leaveThenRetry(setting, kind, `${prefix}-told`, true);
}

describe("a held call whose client leaves: HTTP upstream", () => {
  let upstream: FeatureHttpServer;
  let sidecar: ProxyUnderTest;
  const { desk, gate, outcomes } = setUpGate();
  const setting = (): Setting => ({ sidecar, desk, outcomes, received: () => upstream.received });

  beforeAll(async () => {
    upstream = await startFeatureHttpServer();
    sidecar = await startProxy({ url: upstream.url }, POLICY, { approvals: gate });
  });
  afterAll(async () => {
    await sidecar.close();
    await upstream.close();
  });

  describe("Streamable HTTP, the server answering with SSE", () => {
    clientGoneCases(setting, "streamable", "http-sse");
  });

  describe("Streamable HTTP, the server answering with JSON", () => {
    beforeAll(() => {
      upstream.jsonResponses = true;
    });
    afterAll(() => {
      upstream.jsonResponses = false;
    });
    clientGoneCases(setting, "streamable", "http-json");
  });

  describe("legacy HTTP+SSE", () => {
    clientGoneCases(setting, "legacy", "http-legacy");
  });
});

describe("a held call whose client leaves: stdio upstream (the bridge)", () => {
  let sidecar: ProxyUnderTest;
  const { desk, gate, outcomes } = setUpGate();
  const dir = mkdtempSync(join(tmpdir(), "mcpwarden-client-gone-"));
  const record = join(dir, "received.jsonl");
  const setting = (): Setting => ({ sidecar, desk, outcomes, received: () => recordedMessages(record) });

  beforeAll(async () => {
    sidecar = await startProxy({ command: process.execPath, args: [FEATURE_STDIO_SERVER], env: { MCP_RECORD_FILE: record } }, POLICY, { approvals: gate });
  });
  afterAll(async () => {
    await sidecar.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("Streamable HTTP", () => {
    clientGoneCases(setting, "streamable", "stdio-streamable");
  });

  describe("legacy HTTP+SSE", () => {
    clientGoneCases(setting, "legacy", "stdio-legacy");
  });
});
