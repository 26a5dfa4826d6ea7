// A real OpenTelemetry Collector (tools/build-otel-collector.sh: the otlp receiver and the
// file exporter) on a free loopback port, writing what it receives as OTLP JSON lines; the
// tracing tests read the spans back from that file.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { otelCollectorBin } from "../harness/control-plane-bin.ts";
import { freePort } from "../harness/free-port.ts";

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };

/** One span as the file exporter writes it, with its attributes flattened. */
export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** 2 SERVER, 3 CLIENT, 1 INTERNAL. */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly events: readonly { readonly name: string; readonly attributes: Readonly<Record<string, string | number | boolean>> }[];
  readonly status: { readonly code?: number; readonly message?: string };
}

export interface OtelCollector {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT: http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Everything received so far, as written (for "never contains" checks). */
  rawText(): string;
  spans(): ReceivedSpan[];
  /** Polls until `match` finds a span (the exporters batch), or fails after ~10 s. */
  waitForSpan(match: (span: ReceivedSpan) => boolean): Promise<ReceivedSpan>;
  output(): string;
  close(): Promise<void>;
}

export async function startOtelCollector(): Promise<OtelCollector> {
  const dir = mkdtempSync(join(tmpdir(), "mcpwarden-otelcol-"));
  const port = await freePort();
  const file = join(dir, "spans.jsonl");
  const config = join(dir, "config.yaml");
  writeFileSync(
    config,
    [
      "receivers:",
      "  otlp:",
      "    protocols:",
      "      http:",
      `        endpoint: 127.0.0.1:${port}`,
      "exporters:",
      "  file:",
      `    path: ${file}`,
      "    flush_interval: 100ms",
      "service:",
      "  telemetry:",
      "    logs: { level: warn }",
      "    metrics: { level: none }",
      "  pipelines:",
      "    traces: { receivers: [otlp], exporters: [file] }",
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(otelCollectorBin(), ["--config", config], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (data: Buffer) => (output += data.toString()));
  child.stderr?.on("data", (data: Buffer) => (output += data.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  // Ready when the receiver answers (an empty export is accepted).
  for (let i = 0; i < 400 && alive(); i++) {
    const response = await fetch(`${endpoint}/v1/traces`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }).catch(() => undefined);
    if (response?.ok) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (!alive()) throw new Error(`the OpenTelemetry Collector exited at start:\n${output}`);
  const rawText = (): string => (existsSync(file) ? readFileSync(file, "utf8") : "");
  const spans = (): ReceivedSpan[] => rawText().split("\n").filter((line) => line.trim() !== "").flatMap(spansOf);
  return {
    endpoint,
    rawText,
    spans,
    async waitForSpan(match) {
      for (let i = 0; i < 200; i++) {
        const found = spans().find(match);
        if (found !== undefined) return found;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no matching span arrived; received: ${JSON.stringify(spans().map((span) => span.name))}\n${output}`);
    },
    output: () => output,
    async close() {
      if (alive()) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        if (alive()) child.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface OtlpJson {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: AnyValue }[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind?: number;
        attributes?: { key: string; value: AnyValue }[];
        events?: { name: string; attributes?: { key: string; value: AnyValue }[] }[];
        status?: { code?: number; message?: string };
      }[];
    }[];
  }[];
}

function flatten(attributes: { key: string; value: AnyValue }[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes ?? []) {
    const scalar = value.stringValue ?? value.boolValue ?? value.doubleValue ?? (value.intValue === undefined ? undefined : Number(value.intValue));
    if (scalar !== undefined) out[key] = scalar;
  }
  return out;
}

function spansOf(line: string): ReceivedSpan[] {
  const parsed = JSON.parse(line) as OtlpJson;
  return (parsed.resourceSpans ?? []).flatMap((resourceSpans) => {
    const service = String(flatten(resourceSpans.resource?.attributes)["service.name"] ?? "");
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        service,
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? "",
        name: span.name,
        kind: span.kind ?? 0,
        attributes: flatten(span.attributes),
        events: (span.events ?? []).map((event) => ({ name: event.name, attributes: flatten(event.attributes) })),
        status: span.status ?? {},
      })),
    );
  });
}
