// OpenTelemetry traces from a real sidecar process to a real OpenTelemetry Collector (built
// from its Go modules: the otlp receiver and the file exporter). The sidecar continues the
// client's W3C traceparent (or starts a trace), records one SERVER span per POST with the
// method, tool, decision, policy and rule, one CLIENT child span for the forwarded request,
// and passes the child's traceparent upstream. No span carries an argument value. Without
// OTEL_* settings, nothing of the OpenTelemetry SDK is even loaded.

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../cli/package-root.ts";
import { startCanary, startCountingUpstream, type Canary, type CountingUpstream } from "../support/boundary-servers.ts";
import { startOtelCollector, type OtelCollector, type ReceivedSpan } from "../support/otel-collector.ts";
import { startSidecarProcess, type SidecarProcess } from "../support/sidecar-process.ts";

const POLICY = `apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: traced }
spec:
  default: deny
  tools:
    echo: {}
    big_json:
      action: deny
      reason: "no big replies"
`;

/** An argument value that must never reach the collector. */
const SECRET = "argument-value-7f3c9e-never-exported";
const CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";
const SERVER = 2;
const CLIENT = 3;

const recordHook = join(packageRoot(), "test", "support", "record-module-loads.ts");
let dir: string;
let collector: OtelCollector;
let canary: Canary;
let upstream: CountingUpstream;
let traced: SidecarProcess;
let untraced: SidecarProcess;

async function call(sidecar: SidecarProcess, tool: string, headers: Record<string, string> = {}): Promise<{ isError?: boolean; _meta?: { "mcpwarden.dev/decision"?: { decision: string } } }> {
  const response = await fetch(sidecar.mcpUrl, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: tool, arguments: { text: SECRET } } }),
  });
  return ((await response.json()) as { result: never }).result;
}

const loads = (name: string): string[] => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), "utf8").split("\n").filter((line) => line !== "") : []);
const traceparentsUpstream = (): string[] => upstream.requests.map((request) => request.headers["traceparent"]).filter((value): value is string => typeof value === "string");

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcpwarden-tracing-"));
  collector = await startOtelCollector();
  canary = await startCanary();
  upstream = await startCountingUpstream(canary);
  traced = await startSidecarProcess({
    policy: POLICY,
    upstream: { url: upstream.url },
    nodeFlags: ["--import", recordHook],
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: "100", MCPWARDEN_RECORD_LOADS: join(dir, "traced-loads") },
  });
  untraced = await startSidecarProcess({ policy: POLICY, upstream: { url: upstream.url }, nodeFlags: ["--import", recordHook], env: { MCPWARDEN_RECORD_LOADS: join(dir, "untraced-loads") } });
});

afterAll(async () => {
  await traced?.close();
  await untraced?.close();
  await upstream?.close();
  await canary?.close();
  await collector?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("the sidecar's traces, received by a real OpenTelemetry Collector", () => {
  it("continues the client's trace: a SERVER span for an allowed call and a CLIENT child span whose traceparent reached the upstream", async () => {
    const before = traceparentsUpstream().length;
    expect(await call(traced, "echo", { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` })).not.toHaveProperty("isError");

    const server = await collector.waitForSpan((span) => span.traceId === CLIENT_TRACE && span.kind === SERVER && span.attributes["gen_ai.tool.name"] === "echo");
    expect(server).toMatchObject({
      service: "mcp-warden-sidecar",
      name: "tools/call echo",
      parentSpanId: CLIENT_SPAN,
      attributes: { "mcp.method.name": "tools/call", "mcpwarden.decision": "allow", "mcpwarden.policy": expect.stringContaining("traced"), "mcpwarden.rule": 'tools["echo"]', "http.response.status_code": 200 },
    });
    const child = await collector.waitForSpan((span) => span.traceId === CLIENT_TRACE && span.kind === CLIENT);
    expect(child.parentSpanId).toBe(server.spanId);
    expect(child.attributes).toMatchObject({ "server.address": "127.0.0.1", "http.response.status_code": 200 });
    // The upstream saw the child span as its parent, in the client's trace.
    expect(traceparentsUpstream().slice(before)).toEqual([`00-${CLIENT_TRACE}-${child.spanId}-01`]);
  });

  it("records a denied call with its policy and rule, and no upstream span: nothing was forwarded", async () => {
    const trace = "0af7651916cd43dd8448eb211c80319c";
    const calledBefore = upstream.calledTools().length;
    expect((await call(traced, "big_json", { traceparent: `00-${trace}-b7ad6b7169203331-01` }))._meta?.["mcpwarden.dev/decision"]?.decision).toBe("deny");
    const server = await collector.waitForSpan((span) => span.traceId === trace && span.kind === SERVER);
    expect(server).toMatchObject({ name: "tools/call big_json", parentSpanId: "b7ad6b7169203331", attributes: { "mcpwarden.decision": "deny", "mcpwarden.rule": 'tools["big_json"]' } });
    expect(server.attributes["mcpwarden.policy"]).toContain("traced");
    // Spans are exported in batches: give a would-be child span the time to arrive too.
    await call(traced, "echo");
    await collector.waitForSpan((span) => span.kind === SERVER && span.traceId !== trace && span.traceId !== CLIENT_TRACE);
    expect(collector.spans().filter((span) => span.traceId === trace)).toHaveLength(1);
    expect(upstream.calledTools().length).toBe(calledBefore + 1);
  });

  it("starts a trace when the client sent no traceparent, and passes it upstream", async () => {
    const before = traceparentsUpstream().length;
    await call(traced, "echo");
    const sent = traceparentsUpstream().slice(before);
    expect(sent).toHaveLength(1);
    const [, traceId, spanId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(sent[0] ?? "") ?? [];
    const child = await collector.waitForSpan((span) => span.spanId === spanId);
    const server = await collector.waitForSpan((span) => span.spanId === child.parentSpanId);
    expect(server).toMatchObject({ traceId, parentSpanId: "", kind: SERVER, name: "tools/call echo" });
  });

  it("never exports an argument value", async () => {
    await collector.waitForSpan((span: ReceivedSpan) => span.attributes["mcpwarden.decision"] === "deny");
    expect(collector.rawText().length).toBeGreaterThan(0);
    expect(collector.rawText()).not.toContain(SECRET);
  });

  it("exports from the shipped build too (the ES-module chunks the npm package and the images run)", async () => {
    const shipped = await startSidecarProcess({
      policy: POLICY,
      upstream: { url: upstream.url },
      script: join(packageRoot(), "dist", "npm", "bin", "mcp-warden.cjs"),
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: "100", OTEL_SERVICE_NAME: "shipped-sidecar" },
    });
    try {
      const trace = "5bf92f3577b34da6a3ce929d0e0e4737";
      await call(shipped, "echo", { traceparent: `00-${trace}-${CLIENT_SPAN}-01` });
      const server = await collector.waitForSpan((span) => span.traceId === trace && span.kind === SERVER);
      expect(server).toMatchObject({ service: "shipped-sidecar", name: "tools/call echo", attributes: { "mcpwarden.decision": "allow" } });
      expect((await collector.waitForSpan((span) => span.traceId === trace && span.kind === CLIENT)).parentSpanId).toBe(server.spanId);
    } finally {
      await shipped.close();
    }
  });

  it("with no OTEL_* settings: no traceparent of its own, and nothing of OpenTelemetry loaded", async () => {
    const before = upstream.requests.length;
    await call(untraced, "echo", { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` });
    await call(untraced, "echo");
    // The client's header passes through untouched; none is made up.
    expect(upstream.requests.slice(before).map((request) => request.headers["traceparent"])).toEqual([`00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, undefined]);
    // prom-client (the process metrics) requires the OpenTelemetry API, a no-op until an SDK
    // registers; no SDK, exporter or resource package is loaded without OTEL_* settings.
    expect(loads("untraced-loads").filter((url) => !url.includes("/@opentelemetry/api/"))).toEqual([]);
    expect(untraced.output()).not.toContain("tracing");
    // The same hook sees OpenTelemetry in the traced process.
    expect(loads("traced-loads").some((url) => url.includes("/@opentelemetry/sdk-trace-base/"))).toBe(true);
    expect(traced.output()).toContain("tracing: exporting spans over OTLP");
  });
});
