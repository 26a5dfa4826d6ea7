// Whether a process exports traces, read from the standard OpenTelemetry environment
// variables only (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/).
// Pure: the caller hands in the environment. Off unless an OTLP endpoint (or
// OTEL_TRACES_EXPORTER=otlp) is set, and then nothing of OpenTelemetry is loaded.

export type OtlpProtocol = "http/protobuf" | "http/json";

export type TracingSettings =
  | { readonly enabled: false; readonly why: string }
  | { readonly enabled: true; readonly protocol: OtlpProtocol; readonly endpoint: string }
  /** A setting that cannot be honoured: the variable and the reason. */
  | { readonly enabled: false; readonly error: string };

type Environment = Readonly<Record<string, string | undefined>>;

/** The spec's default endpoint for OTLP over HTTP, used when only OTEL_TRACES_EXPORTER=otlp is set. */
const DEFAULT_HTTP_ENDPOINT = "http://localhost:4318";

export function tracingSettings(env: Environment): TracingSettings {
  const value = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === "" ? undefined : raw;
  };
  if (value("OTEL_SDK_DISABLED")?.toLowerCase() === "true") return { enabled: false, why: "OTEL_SDK_DISABLED=true" };
  const exporters = value("OTEL_TRACES_EXPORTER")
    ?.split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  const unsupported = exporters?.filter((name) => name !== "otlp" && name !== "none") ?? [];
  if (unsupported.length > 0) {
    return { enabled: false, error: `OTEL_TRACES_EXPORTER: ${unsupported.join(", ")} is not supported; mcp-warden exports traces with otlp (or none)` };
  }
  if (exporters !== undefined && !exporters.includes("otlp")) return { enabled: false, why: `OTEL_TRACES_EXPORTER=${exporters.join(",") || "none"}` };
  const tracesEndpoint = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const endpoint = value("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (tracesEndpoint === undefined && endpoint === undefined && exporters === undefined) {
    return { enabled: false, why: "no OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER" };
  }
  const endpointName = tracesEndpoint !== undefined ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" : "OTEL_EXPORTER_OTLP_ENDPOINT";
  const url = tracesEndpoint ?? endpoint ?? DEFAULT_HTTP_ENDPOINT;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    return { enabled: false, error: `${endpointName}: ${JSON.stringify(url)} is not an http:// or https:// URL` };
  }
  const protocolName = value("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") !== undefined ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const protocol = value(protocolName) ?? "http/protobuf";
  if (protocol !== "http/protobuf" && protocol !== "http/json") {
    const hint = protocol === "grpc" ? " (gRPC is not bundled: point the endpoint at the collector's OTLP/HTTP port, usually 4318)" : "";
    return { enabled: false, error: `${protocolName}: ${JSON.stringify(protocol)} is not supported; use http/protobuf or http/json${hint}` };
  }
  return { enabled: true, protocol, endpoint: url };
}
