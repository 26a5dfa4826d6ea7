// The server's own schema and the advertised constraints through a real `mcp-warden
// sidecar` process (from dist/, standalone, policy from a file), with a real SDK client
// and a real SDK server that records every request: what only the server's schema
// rejects is refused before it reaches the server, a schema that refers to another
// document never makes the sidecar fetch it, a dialect it does not check is refused
// naming it, and the agent sees the policy's constraints in tools/list.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { calledTools } from "../support/mcp-feature-server.ts";
import { definitionTools, listAllTools, startDefinitionHttpServer, type DefinitionHttpServer } from "../support/mcp-definition-server.ts";
import { startSidecarProcess, type SidecarProcess } from "../support/sidecar-process.ts";

const RULE_SCHEMA = { type: "object", properties: { lines: { type: "integer", maximum: 100 } } };
const POLICY = `
apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: server-schemas, namespace: agents }
spec:
  default: allow
  validateServerSchema: true
  advertiseConstraints: true
  tools:
    get_run:
      arguments: ${JSON.stringify(RULE_SCHEMA)}
      limits: [{ counter: get_run, window: minute, max: 10 }]
`;

let upstream: DefinitionHttpServer;
let sidecar: SidecarProcess;
let client: Client;

beforeAll(async () => {
  upstream = await startDefinitionHttpServer();
  sidecar = await startSidecarProcess({ policy: POLICY, upstream: { url: upstream.url } });
  client = new Client({ name: "agent", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(sidecar.mcpUrl)));
});

afterAll(async () => {
  await client?.close();
  await sidecar?.close();
  await upstream?.close();
});

const call = async (name: string, args: Record<string, unknown>): Promise<CallToolResult> => (await client.callTool({ name, arguments: args })) as CallToolResult;
const decisionOf = (result: CallToolResult): unknown => result._meta?.["mcpwarden.dev/decision"];

describe("validateServerSchema and advertiseConstraints through the sidecar process", () => {
  it("the agent sees the allOf schema and the rate-limit sentence", async () => {
    const getRun = definitionTools("reviewed", upstream.origin)[1] as Tool;
    const listed = (await listAllTools(client)).find((tool) => tool.name === "get_run");
    expect(listed).toEqual({ ...getRun, description: "Reads one run. At most 10 calls a minute.", inputSchema: { type: "object", allOf: [getRun.inputSchema, RULE_SCHEMA] } });
  });

  it("refuses calls that violate only the server's schema, and forwards valid ones", async () => {
    expect(decisionOf(await call("get_run", { run_id: "42" }))).toEqual({
      decision: "invalid_arguments",
      policy: "agents/server-schemas",
      rule: "validateServerSchema",
      reason: `invalid arguments (the server's inputSchema): run_id: must match pattern "^r-[0-9]+$"`,
    });
    expect(calledTools(upstream.received)).toEqual([]);
    expect((await call("get_run", { run_id: "r-7", lines: 3 })).content).toEqual([{ type: "text", text: 'get_run ran with {"run_id":"r-7","lines":3}' }]);
  });

  it("never fetches a remote $ref, and refuses a dialect it does not check, naming why", async () => {
    expect(decisionOf(await call("remote_ref_tool", { spec: "x" }))).toMatchObject({ decision: "deny", reason: expect.stringContaining("a $ref outside the schema is never fetched") });
    expect(decisionOf(await call("draft4_tool", {}))).toMatchObject({ decision: "deny", reason: expect.stringContaining('its $schema "http://json-schema.org/draft-04/schema#" is not a dialect the sidecar checks') });
    expect(upstream.otherRequests).toEqual([]);
    expect(calledTools(upstream.received)).toEqual(["get_run"]);
    expect(sidecar.alive()).toBe(true);
  });
});
