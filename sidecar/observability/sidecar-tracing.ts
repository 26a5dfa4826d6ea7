// The sidecar's tracing, when the OTEL_* variables turn it on (tracing/load-tracing.ts);
// without them neither OpenTelemetry nor the proxy's span code is loaded.

import { loadTracing } from "../../tracing/load-tracing.ts";
import type { TracingLog } from "../../tracing/span-recorder.ts";
import type { RequestTracer } from "../contracts.ts";

export interface SidecarTracing {
  readonly tracer: RequestTracer;
  /** Exports the spans still buffered. */
  shutdown(): Promise<void>;
}

export async function loadSidecarTracing(env: Readonly<Record<string, string | undefined>>, version: string, log: TracingLog): Promise<SidecarTracing | undefined> {
  const tracing = await loadTracing(env, { name: "mcp-warden-sidecar", version }, log);
  if (tracing === undefined) return undefined;
  const { createRequestTracer } = await import("./request-tracer.ts");
  return { tracer: createRequestTracer(tracing), shutdown: () => tracing.shutdown() };
}
