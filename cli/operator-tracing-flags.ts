// The operator's --sidecar-otel NAME=VALUE flags: the OpenTelemetry settings injected
// sidecars get as environment variables (the chart's tracing values). Checked before the
// operator starts, with the rules the sidecar itself applies, so a typo is one error line
// and exit 2, not sidecars that refuse to start in every injected pod.
import { tracingSettings } from "../tracing/tracing-settings.ts";

export type SidecarOtelRead = { ok: true; env: Record<string, string> } | { ok: false; message: string };

const OTEL_NAME = /^OTEL_[A-Z0-9_]+$/;

export function sidecarOtelFromFlags(values: readonly string[]): SidecarOtelRead {
  const env: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf("=");
    const name = equals < 0 ? value : value.slice(0, equals);
    if (equals < 0 || !OTEL_NAME.test(name)) {
      return { ok: false, message: `--sidecar-otel must be NAME=VALUE with NAME an OpenTelemetry variable (OTEL_…), got ${JSON.stringify(value)}` };
    }
    env[name] = value.slice(equals + 1);
  }
  const settings = tracingSettings(env);
  if ("error" in settings) return { ok: false, message: `--sidecar-otel ${settings.error}` };
  return { ok: true, env };
}
