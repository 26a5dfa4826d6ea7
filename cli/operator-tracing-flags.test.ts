import { describe, expect, it } from "vitest";
import { sidecarOtelFromFlags } from "./operator-tracing-flags.ts";

describe("--sidecar-otel NAME=VALUE", () => {
  it("collects OpenTelemetry variables for injected sidecars", () => {
    expect(sidecarOtelFromFlags([])).toEqual({ ok: true, env: {} });
    expect(sidecarOtelFromFlags(["OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector.monitoring:4318", "OTEL_TRACES_SAMPLER_ARG=0.1"])).toEqual({
      ok: true,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector.monitoring:4318", OTEL_TRACES_SAMPLER_ARG: "0.1" },
    });
  });

  it("refuses another variable, a missing value, and a setting the sidecar could not honour", () => {
    expect(sidecarOtelFromFlags(["NODE_OPTIONS=--inspect"])).toMatchObject({ ok: false, message: expect.stringContaining("OTEL_") });
    expect(sidecarOtelFromFlags(["OTEL_EXPORTER_OTLP_ENDPOINT"])).toMatchObject({ ok: false });
    expect(sidecarOtelFromFlags(["OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"])).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^--sidecar-otel OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported/),
    });
  });
});
