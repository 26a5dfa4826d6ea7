// Tool definitions through the proxy, with real SDK clients and a real SDK server whose
// definitions the test changes: pins (the rug pull), the server's own schema, and the
// constraints advertised in tools/list — over Streamable HTTP (SSE and JSON replies),
// the legacy SSE transport and a stdio server.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { toolDefinitionDigest } from "../../policy/index.ts";
import { calledTools } from "../../test/support/mcp-feature-server.ts";
import { CHANGED_LIST_RUNS, definitionTools, listAllTools, REVIEWED_LIST_RUNS, startDefinitionHttpServer, type DefinitionHttpServer } from "../../test/support/mcp-definition-server.ts";
import { recordedMessages, startProxy, type ProxyUnderTest } from "../../test/support/mcp-proxy-harness.ts";
import type { ToolDefinitionRecord } from "../contracts.ts";

const DEFINITION_STDIO = fileURLToPath(new URL("../../test/support/mcp-definition-server-stdio.ts", import.meta.url));
const REVIEWED = toolDefinitionDigest(REVIEWED_LIST_RUNS);
const CHANGED = toolDefinitionDigest(CHANGED_LIST_RUNS);
const GET_RUN = definitionTools("reviewed", "")[1] as Tool;

interface ToolResult {
  isError?: boolean;
  content: { type: string; text: string }[];
  _meta?: Record<string, unknown>;
}

function policy(spec: string): string {
  return `apiVersion: mcpwarden.dev/v1alpha1\nkind: McpPolicy\nmetadata: { name: tools, namespace: agents }\nspec:\n  default: allow\n${spec}`;
}

const PIN_POLICY = policy(`  toolDefinitions:
    mode: pin
    pins: { list_runs: "${REVIEWED}", get_run: "${toolDefinitionDigest(GET_RUN)}" }
`);

async function connect(transport: Transport): Promise<Client> {
  const client = new Client({ name: "agent", version: "1" });
  await client.connect(transport);
  return client;
}

const listAll = listAllTools;

const names = (tools: readonly Tool[]): string[] => tools.map((tool) => tool.name);
const call = async (client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> => (await client.callTool({ name, arguments: args })) as ToolResult;
const decisionOf = (result: ToolResult): unknown => result._meta?.["mcpwarden.dev/decision"];

describe("pinned tool definitions (Streamable HTTP)", () => {
  for (const jsonResponses of [false, true]) {
    describe(jsonResponses ? "JSON replies" : "SSE replies", () => {
      let upstream: DefinitionHttpServer;
      let sidecar: ProxyUnderTest;
      let client: Client;
      const seen: ToolDefinitionRecord[] = [];

      beforeAll(async () => {
        upstream = await startDefinitionHttpServer({ jsonResponses });
        sidecar = await startProxy({ url: upstream.url }, PIN_POLICY, { definitions: { onToolDefinition: (record) => seen.push(record) } });
        client = await connect(new StreamableHTTPClientTransport(new URL(sidecar.url)));
      });
      afterAll(async () => {
        await client.close();
        await sidecar.close();
        await upstream.close();
      });

      it("a call before any listing is refused: its definition cannot be checked", async () => {
        const refused = await call(client, "list_runs");
        expect(refused.isError).toBe(true);
        expect(decisionOf(refused)).toEqual({
          decision: "definition_changed",
          policy: "agents/tools",
          rule: 'toolDefinitions.pins["list_runs"]',
          reason: `tool "list_runs" is pinned to ${REVIEWED}, but no tools/list from the server has listed it, so its definition cannot be checked`,
        });
        expect(calledTools(upstream.received)).toEqual([]);
      });

      it("lists only pinned tools whose definition is the pinned one (every page), and lets their calls through", async () => {
        expect(names(await listAll(client))).toEqual(["list_runs", "get_run"]);
        expect((await call(client, "list_runs", { limit: 3 })).content[0]?.text).toBe('list_runs ran with {"limit":3}');
        expect(seen.find((record) => record.tool === "list_runs")).toEqual({ tool: "list_runs", digest: REVIEWED, previous: undefined, unpinned: [] });
        expect(seen.find((record) => record.tool === "draft4_tool")?.unpinned).toEqual([{ policy: "agents/tools", pinned: undefined, mode: "pin" }]);
      });

      it("the rug pull: the changed tool disappears from tools/list and its call is refused before it reaches the server", async () => {
        upstream.setVariant("changed");
        expect(names(await listAll(client))).toEqual(["get_run"]);
        const before = calledTools(upstream.received).length;
        const refused = await call(client, "list_runs", { limit: 3, note: "-----BEGIN OPENSSH PRIVATE KEY-----" });
        expect(refused).toEqual({
          content: [{ type: "text", text: `The call to tool "list_runs" was refused: the tool's definition changed since it was approved.` }],
          isError: true,
          _meta: {
            "mcpwarden.dev/decision": {
              decision: "definition_changed",
              policy: "agents/tools",
              rule: 'toolDefinitions.pins["list_runs"]',
              reason: `tool "list_runs": the server lists definition ${CHANGED}, pinned ${REVIEWED}`,
            },
          },
        });
        expect(calledTools(upstream.received)).toHaveLength(before);
        expect(sidecar.decisions.at(-1)).toMatchObject({ tool: "list_runs", mode: "enforce", decision: { decision: "definition_changed" } });
        expect(seen.filter((record) => record.tool === "list_runs").at(-1)).toEqual({
          tool: "list_runs",
          digest: CHANGED,
          previous: REVIEWED,
          unpinned: [{ policy: "agents/tools", pinned: REVIEWED, mode: "pin" }],
        });
      });

      it("the reviewed definition listed again restores the tool", async () => {
        upstream.setVariant("reviewed");
        expect(names(await listAll(client))).toEqual(["list_runs", "get_run"]);
        expect((await call(client, "list_runs")).isError).toBeUndefined();
      });
    });
  }
});

describe("pinned tool definitions on the other transports", () => {
  it("legacy SSE: the same filter and refusal", async () => {
    const upstream = await startDefinitionHttpServer();
    const sidecar = await startProxy({ url: upstream.url, sseUrl: `${upstream.origin}/sse` }, PIN_POLICY);
    const client = await connect(new SSEClientTransport(new URL(`${sidecar.origin}/sse`)));
    try {
      expect(names(await listAll(client))).toEqual(["list_runs", "get_run"]);
      upstream.setVariant("changed");
      expect(names(await listAll(client))).toEqual(["get_run"]);
      expect(decisionOf(await call(client, "list_runs"))).toMatchObject({ decision: "definition_changed" });
      expect(calledTools(upstream.received)).toEqual([]);
    } finally {
      await client.close();
      await sidecar.close();
      await upstream.close();
    }
  });

  it("stdio: a server process whose description changes between two listings", async () => {
    const dir = mkdtempSync(join(tmpdir(), "warden-definitions-"));
    const record = join(dir, "received.jsonl");
    // Three pages per listing: the fourth tools/list request (the second listing) is changed.
    const sidecar = await startProxy({ command: process.execPath, args: [DEFINITION_STDIO], env: { MCP_RECORD_FILE: record, MCP_CHANGE_AFTER_LISTINGS: "3" } }, PIN_POLICY);
    const client = await connect(new StreamableHTTPClientTransport(new URL(sidecar.url)));
    try {
      expect(names(await listAll(client))).toEqual(["list_runs", "get_run"]);
      expect(names(await listAll(client))).toEqual(["get_run"]);
      expect(decisionOf(await call(client, "list_runs"))).toMatchObject({ decision: "definition_changed", reason: `tool "list_runs": the server lists definition ${CHANGED}, pinned ${REVIEWED}` });
      expect(calledTools(recordedMessages(record) as never[])).toEqual([]);
    } finally {
      await client.close();
      await sidecar.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("toolDefinitions mode audit", () => {
  let upstream: DefinitionHttpServer;
  let sidecar: ProxyUnderTest;
  let client: Client;
  const seen: ToolDefinitionRecord[] = [];
  beforeAll(async () => {
    upstream = await startDefinitionHttpServer();
    sidecar = await startProxy({ url: upstream.url }, policy(`  toolDefinitions: { mode: audit, pins: { list_runs: "${REVIEWED}" } }\n`), {
      definitions: { onToolDefinition: (record) => seen.push(record) },
    });
    client = await connect(new StreamableHTTPClientTransport(new URL(sidecar.url)));
  });
  afterAll(async () => {
    await client.close();
    await sidecar.close();
    await upstream.close();
  });

  it("lists and forwards a changed definition, and reports it as an audit decision and a definition record", async () => {
    upstream.setVariant("changed");
    expect(names(await listAll(client))).toHaveLength(6);
    expect((await call(client, "list_runs")).content[0]?.text).toBe("list_runs ran with {}");
    expect(calledTools(upstream.received)).toEqual(["list_runs"]);
    expect(sidecar.decisions.map((record) => [record.mode, record.decision.decision])).toEqual([
      ["enforce", "allow"],
      ["audit", "definition_changed"],
    ]);
    expect(seen.find((record) => record.tool === "list_runs")?.unpinned).toEqual([{ policy: "agents/tools", pinned: REVIEWED, mode: "audit" }]);
  });
});

describe("validateServerSchema", () => {
  let upstream: DefinitionHttpServer;
  let sidecar: ProxyUnderTest;
  let client: Client;
  beforeAll(async () => {
    upstream = await startDefinitionHttpServer();
    sidecar = await startProxy({ url: upstream.url }, policy("  validateServerSchema: true\n"));
    client = await connect(new StreamableHTTPClientTransport(new URL(sidecar.url)));
  });
  afterAll(async () => {
    await client.close();
    await sidecar.close();
    await upstream.close();
  });
  afterEach(() => {
    // Whatever was refused, nothing fetched a schema.
    expect(upstream.otherRequests).toEqual([]);
  });

  it("refuses calls before the sidecar has seen a listing of the tool", async () => {
    expect(decisionOf(await call(client, "get_run", { run_id: "r-1" }))).toEqual({
      decision: "deny",
      policy: "agents/tools",
      rule: "validateServerSchema",
      reason: "the server's inputSchema for this tool is not known: no tools/list from the server has listed it (list the tools first)",
    });
  });

  it("refuses arguments only the server's schema rejects, with the path and reason; valid ones pass", async () => {
    await listAll(client);
    expect(decisionOf(await call(client, "get_run", { run_id: "42" }))).toEqual({
      decision: "invalid_arguments",
      policy: "agents/tools",
      rule: "validateServerSchema",
      reason: `invalid arguments (the server's inputSchema): run_id: must match pattern "^r-[0-9]+$"`,
    });
    expect(decisionOf(await call(client, "get_run", { run_id: "r-1", lines: 9000, extra: true }))).toMatchObject({
      reason: "invalid arguments (the server's inputSchema): extra: is not an accepted argument; lines: must be <= 500",
    });
    expect(decisionOf(await call(client, "draft7_tool", { pair: ["a", "b"] }))).toMatchObject({ reason: "invalid arguments (the server's inputSchema): pair[1]: must be integer" });
    expect(calledTools(upstream.received)).toEqual([]);
    expect((await call(client, "get_run", { run_id: "r-1", lines: 5 })).content[0]?.text).toBe('get_run ran with {"run_id":"r-1","lines":5}');
    expect((await call(client, "draft7_tool", { pair: ["a", 1] })).isError).toBeUndefined();
  });

  it("refuses every call to a tool whose schema cannot be checked, naming why", async () => {
    await listAll(client);
    const before = calledTools(upstream.received).length;
    expect(decisionOf(await call(client, "draft4_tool"))).toMatchObject({
      decision: "deny",
      reason: `the server's inputSchema for this tool cannot be checked: its $schema "http://json-schema.org/draft-04/schema#" is not a dialect the sidecar checks (JSON Schema 2020-12, the default, or draft-07)`,
    });
    // RE2 runs patterns: a backreference does not compile, so no call passes (JavaScript's engine would run it).
    expect(decisionOf(await call(client, "backref_tool", { word: "aa" }))).toMatchObject({
      decision: "deny",
      reason: "the server's inputSchema for this tool cannot be checked: as JSON Schema 2020-12, it does not compile: error parsing regexp: invalid escape sequence: `\\1`",
    });
    expect(decisionOf(await call(client, "remote_ref_tool", { spec: "x" }))).toMatchObject({
      decision: "deny",
      reason: expect.stringContaining(`can't resolve reference ${upstream.origin}/schemas/spec.json from id # (a $ref outside the schema is never fetched)`),
    });
    expect(calledTools(upstream.received)).toHaveLength(before);
  });
});

describe("advertiseConstraints", () => {
  const RULE_SCHEMA = { type: "object", properties: { lines: { type: "integer", maximum: 100 } } };
  const ADVERTISING = policy(`  advertiseConstraints: true
  toolDefinitions: { mode: pin, pins: { list_runs: "${REVIEWED}", get_run: "${toolDefinitionDigest(GET_RUN)}" } }
  tools:
    get_run:
      arguments: ${JSON.stringify(RULE_SCHEMA)}
      limits: [{ counter: get_run, window: minute, max: 10 }]
    list_runs: { action: approve, approval: { timeout: 1m } }
`);

  it("an SDK client sees the allOf schema and the sentences; pins are still checked against the server's definition", async () => {
    const upstream = await startDefinitionHttpServer();
    const sidecar = await startProxy({ url: upstream.url }, ADVERTISING);
    const client = await connect(new StreamableHTTPClientTransport(new URL(sidecar.url)));
    try {
      const tools = await listAll(client);
      expect(names(tools)).toEqual(["list_runs", "get_run"]);
      expect(tools[1]).toEqual({ ...GET_RUN, description: "Reads one run. At most 10 calls a minute.", inputSchema: { type: "object", allOf: [GET_RUN.inputSchema, RULE_SCHEMA] } });
      expect(tools[0]?.description).toBe("Lists the test runs, newest first. Calls wait for a person's approval.");
      expect(tools[0]?.inputSchema).toEqual(REVIEWED_LIST_RUNS.inputSchema);
      // The rule's schema is the policy's, enforced as before.
      expect(decisionOf(await call(client, "get_run", { run_id: "r-1", lines: 200 }))).toMatchObject({ decision: "invalid_arguments", rule: 'tools["get_run"]' });
    } finally {
      await client.close();
      await sidecar.close();
      await upstream.close();
    }
  });
});
