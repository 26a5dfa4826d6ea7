// The one door to tracing for both processes: reads the OTEL_* settings and, only when
// they turn tracing on, imports OpenTelemetry (a process without them never loads it;
// docs/architecture.md "What the sidecar loads").

import type { Tracing } from "./start-tracing.ts";
import { tracingSettings } from "./tracing-settings.ts";

import type { TracingLog } from "./span-recorder.ts";

export type { Tracing } from "./start-tracing.ts";

/** undefined when tracing is off; throws an Error naming the variable when a setting cannot be honoured. */
export async function loadTracing(env: Readonly<Record<string, string | undefined>>, service: { readonly name: string; readonly version: string }, log: TracingLog): Promise<Tracing | undefined> {
  const settings = tracingSettings(env);
  if ("error" in settings) throw new Error(`tracing: ${settings.error}`);
  if (!settings.enabled) return undefined;
  const { startTracing } = await import("./start-tracing.ts");
  const tracing = startTracing(settings.protocol, service, log);
  log.info({ endpoint: settings.endpoint, protocol: settings.protocol }, "tracing: exporting spans over OTLP");
  return tracing;
}
