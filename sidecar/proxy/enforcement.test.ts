import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { calledTools, startFeatureHttpServer, type FeatureHttpServer } from "../../test/support/mcp-feature-server.ts";
import { snapshotFromYaml, startProxy, type ProxyUnderTest } from "../../test/support/mcp-proxy-harness.ts";

export const ENFORCEMENT_POLICY = `
apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: mockloop, namespace: agents }
spec:
  default: deny
  hide: ["debug_*"]
  tools:
    echo: {}
    list_runs: {}
    progress: {}
    run_test_iteration:
      limits: [{ counter: runs, window: minute, max: 2 }]
      arguments: { type: object, properties: { iterations: { type: integer, maximum: 5 } } }
    delete_all: { action: deny, reason: "destructive: ask a person" }
    deploy: { action: approve, approval: { timeout: 1m } }
---
apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: watch, namespace: agents }
spec:
  mode: audit
  default: deny
  tools: { echo: {} }
`;

interface ToolResult {
  isError?: boolean;
  content: { type: string; text: string }[];
  _meta?: Record<string, unknown>;
}

describe("enforcement through the proxy (Streamable HTTP upstream)", () => {
  let upstream: FeatureHttpServer;
  let sidecar: ProxyUnderTest;
  let client: Client;

  beforeAll(async () => {
    upstream = await startFeatureHttpServer();
    sidecar = await startProxy({ url: upstream.url }, ENFORCEMENT_POLICY);
    client = new Client({ name: "agent", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(sidecar.url)));
  });
  afterAll(async () => {
    await client.close();
    await sidecar.close();
    await upstream.close();
  });
  beforeEach(() => {
    sidecar.decisions.length = 0;
  });

  const call = async (name: string, args: Record<string, unknown> = {}): Promise<ToolResult> => (await client.callTool({ name, arguments: args })) as ToolResult;

  it("forwards an allowed call and returns the server's reply untouched", async () => {
    expect(await call("echo", { text: "hi" })).toEqual({ content: [{ type: "text", text: "hi" }] });
    expect(calledTools(upstream.received)).toContain("echo");
    expect(sidecar.decisions.map((record) => [record.mode, record.decision.decision])).toEqual([
      ["enforce", "allow"],
      ["audit", "allow"],
    ]);
  });

  it("refuses a denied call with its policy and reason; the server never sees it", async () => {
    const result = await call("delete_all", { target: "prod" });
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toContain("agents/mockloop");
    expect(result.content[0]?.text).toContain("destructive: ask a person");
    expect(result._meta?.["mcpwarden.dev/decision"]).toEqual({
      decision: "deny",
      policy: "agents/mockloop",
      rule: 'tools["delete_all"]',
      reason: "destructive: ask a person",
    });
    expect(calledTools(upstream.received)).not.toContain("delete_all");
  });

  it("refuses hidden and default-denied tools; a hidden one exactly as a tool the policy never names", async () => {
    const hidden = await call("debug_dump");
    const unnamed = await call("debug_dump_never_named");
    // Same text but for the name, same _meta: the agent cannot tell the hidden tool exists.
    expect(hidden._meta).toEqual(unnamed._meta);
    expect(hidden.content[0]?.text).toBe(unnamed.content[0]?.text.replace("debug_dump_never_named", "debug_dump"));
    expect(hidden._meta?.["mcpwarden.dev/decision"]).toEqual({ decision: "deny", policy: "agents/mockloop", rule: "default", reason: "this tool is not allowed (default: deny)" });
    expect(JSON.stringify(hidden)).not.toMatch(/hid/);
    // The audit record keeps the true rule.
    expect(sidecar.decisions.find((record) => record.tool === "debug_dump" && record.mode === "enforce")?.decision).toMatchObject({ rule: "hide[0]" });
    const fallback = await call("sample", { prompt: "x" });
    expect(fallback._meta?.["mcpwarden.dev/decision"]).toMatchObject({ decision: "deny", rule: "default" });
    expect(calledTools(upstream.received)).not.toContain("debug_dump");
    expect(calledTools(upstream.received)).not.toContain("sample");
  });

  it("refuses arguments that break the schema, naming the argument", async () => {
    const result = await call("run_test_iteration", { iterations: 9 });
    expect(result.isError).toBe(true);
    expect(result._meta?.["mcpwarden.dev/decision"]).toMatchObject({ decision: "invalid_arguments" });
    expect(result.content[0]?.text).toMatch(/iterations/);
    expect(result.content[0]?.text).toMatch(/5/);
  });

  it("rate-limits with the retry time, counting only admitted calls", async () => {
    expect((await call("run_test_iteration", { iterations: 1 })).isError).toBeUndefined();
    expect((await call("run_test_iteration", { iterations: 1 })).isError).toBeUndefined();
    const limited = await call("run_test_iteration", { iterations: 1 });
    const decision = limited._meta?.["mcpwarden.dev/decision"] as { decision: string; retryAfterSeconds: number };
    expect(decision.decision).toBe("rate_limited");
    expect(decision.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    expect(limited.content[0]?.text).toMatch(/Retry after \d+ seconds/);
    expect(calledTools(upstream.received).filter((name) => name === "run_test_iteration")).toHaveLength(2);
    expect(sidecar.decisions.filter((record) => record.mode === "enforce").at(-1)).toMatchObject({ rateLimitCounter: "runs" });
  });

  it("refuses a call that needs approval, saying approval is not available yet", async () => {
    const result = await call("deploy");
    expect(result.isError).toBe(true);
    expect(result._meta?.["mcpwarden.dev/decision"]).toMatchObject({ decision: "approval_required", policy: "agents/mockloop", rule: 'tools["deploy"]' });
    expect(result.content[0]?.text).toMatch(/approval/);
    expect(calledTools(upstream.received)).not.toContain("deploy");
  });

  it("filters every page of tools/list by the policy's rule", async () => {
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      names.push(...page.tools.map((tool) => tool.name));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBeGreaterThan(2);
    expect(names.sort()).toEqual(["deploy", "echo", "list_runs", "progress", "run_test_iteration"]);
  });

  it("records audit policies' would-be decisions and forwards", async () => {
    await call("list_runs");
    expect(sidecar.decisions.map((record) => [record.mode, record.decision.decision, record.decision.policy])).toEqual([
      ["enforce", "allow", "agents/mockloop"],
      ["audit", "deny", "agents/watch"],
    ]);
    expect(sidecar.decisions[0]?.argumentDigest).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses every call while no policy is loaded, and will not list tools", async () => {
    sidecar.setSnapshot(undefined);
    try {
      const result = await call("echo", { text: "x" });
      expect(result._meta?.["mcpwarden.dev/decision"]).toMatchObject({ decision: "deny", policy: "" });
      await expect(client.listTools()).rejects.toThrow(/no policy/);
    } finally {
      sidecar.setSnapshot(snapshotFromYaml(ENFORCEMENT_POLICY));
    }
  });
});

describe("enforcement over the legacy transport and with JSON replies", () => {
  let upstream: FeatureHttpServer;
  let sidecar: ProxyUnderTest;
  beforeAll(async () => {
    upstream = await startFeatureHttpServer();
    sidecar = await startProxy({ url: upstream.url }, ENFORCEMENT_POLICY);
  });
  afterAll(async () => {
    await sidecar.close();
    await upstream.close();
  });

  it("delivers refusals on the legacy event stream and filters tools/list there", async () => {
    const client = new Client({ name: "agent", version: "1" });
    await client.connect(new SSEClientTransport(new URL(`${sidecar.origin}/sse`)));
    try {
      const refused = (await client.callTool({ name: "delete_all", arguments: {} })) as ToolResult;
      expect(refused._meta?.["mcpwarden.dev/decision"]).toMatchObject({ decision: "deny", rule: 'tools["delete_all"]' });
      expect((await client.callTool({ name: "echo", arguments: { text: "legacy" } })) as ToolResult).toEqual({ content: [{ type: "text", text: "legacy" }] });
      const names: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor === undefined ? {} : { cursor });
        names.push(...page.tools.map((tool) => tool.name));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(names.sort()).toEqual(["deploy", "echo", "list_runs", "progress", "run_test_iteration"]);
      expect(calledTools(upstream.received)).toEqual(["echo"]);
    } finally {
      await client.close();
    }
  });

  it("reports the sidecar's own time and the upstream's, by method", async () => {
    const observed: [string, string, number][] = [];
    const timed = await startProxy({ url: upstream.url }, ENFORCEMENT_POLICY, {
      timings: {
        observeRequestDuration: (method, seconds) => observed.push(["request", method, seconds]),
        observeUpstreamDuration: (method, seconds) => observed.push(["upstream", method, seconds]),
      },
    });
    const client = new Client({ name: "agent", version: "1" });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(timed.url)));
      observed.length = 0;
      await client.callTool({ name: "echo", arguments: { text: "t" } });
      await client.callTool({ name: "delete_all", arguments: {} });
      expect(observed.map(([kind, method]) => `${kind} ${method}`)).toEqual(["request tools/call", "upstream tools/call", "request tools/call"]);
      for (const [, , seconds] of observed) expect(seconds).toBeGreaterThan(0);
    } finally {
      await client.close();
      await timed.close();
    }
  });

  it("filters tools/list pages answered with JSON", async () => {
    upstream.jsonResponses = true;
    const client = new Client({ name: "agent", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(sidecar.url)));
    try {
      const first = await client.listTools();
      expect(first.tools.map((tool) => tool.name)).toEqual(["echo", "list_runs", "run_test_iteration"]);
      expect(first.nextCursor).toBeDefined();
      const refused = (await client.callTool({ name: "debug_dump", arguments: {} })) as ToolResult;
      expect(refused.isError).toBe(true);
    } finally {
      upstream.jsonResponses = false;
      await client.close();
    }
  });
});
