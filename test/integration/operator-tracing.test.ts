// The operator's traces, received by a real OpenTelemetry Collector: a span per reconcile
// of an McpPolicy and a span per push of new bundles to connected sidecars, exported over
// OTLP when the standard OTEL_* variables say where.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNamespace } from "../harness/index.ts";
import { startOtelCollector, type OtelCollector } from "../support/otel-collector.ts";
import {
  applyPolicy,
  connectStream,
  createPod,
  createServiceAccount,
  eventually,
  operatorEnvironment,
  podManifest,
  podToken,
  setPodRunning,
  startOperator,
  type OperatorEnvironment,
  type OperatorProcess,
} from "./operator-fixture.ts";

let env: OperatorEnvironment;
let collector: OtelCollector;
let operator: OperatorProcess;

beforeAll(async () => {
  collector = await startOtelCollector();
  env = await operatorEnvironment("tracing");
  operator = await startOperator(env, {
    identity: "tracing-0",
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_BSP_SCHEDULE_DELAY: "100", OTEL_SERVICE_NAME: "warden-under-test" },
  });
});

afterAll(async () => {
  await operator?.stop();
  await collector?.close();
});

describe("the operator's traces", () => {
  it("exports a span per reconcile and per push of bundles to sidecars", async () => {
    const namespace = await createNamespace("traced");
    await createServiceAccount(namespace, "mcp-server");
    const labels = { app: "traced" };
    await applyPolicy(namespace, "first", { selector: { matchLabels: labels }, tools: { list_runs: {} } });
    const created = await createPod(namespace, podManifest("server", { labels: { ...labels, "mcpwarden.dev/injected": "true" }, annotations: { "mcpwarden.dev/upstream-port": "8080" } }));
    await setPodRunning(namespace, "server", "127.0.0.1");
    const stream = await connectStream(operator.streamUrl, await podToken(namespace, "mcp-server", created.body.metadata), env.caPem);
    try {
      await eventually("a bundle", async () => (stream.bundles().length > 0 ? true : undefined));
      await applyPolicy(namespace, "first", { selector: { matchLabels: labels }, tools: { list_runs: {}, get_run: {} } });
      await eventually("the second bundle", async () => (stream.bundles().length > 1 ? true : undefined));

      const reconcile = await collector.waitForSpan((span) => span.name === "reconcile McpPolicy" && span.attributes["mcpwarden.policy"] === `${namespace}/first`);
      // OTEL_SERVICE_NAME wins over the operator's default name.
      expect(reconcile.service).toBe("warden-under-test");
      const push = await collector.waitForSpan((span) => span.name === "push policy bundles");
      expect(push.attributes["mcpwarden.sidecars"]).toBeGreaterThanOrEqual(1);
    } finally {
      stream.close();
    }
  });
});
