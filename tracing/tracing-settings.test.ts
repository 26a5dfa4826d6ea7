import { describe, expect, it } from "vitest";
import { tracingSettings } from "./tracing-settings.ts";

describe("tracingSettings (the OTEL_* variables)", () => {
  it("is off when nothing is set", () => {
    expect(tracingSettings({})).toMatchObject({ enabled: false, why: expect.stringContaining("OTEL_EXPORTER_OTLP_ENDPOINT") });
  });

  it("is on with an endpoint, over http/protobuf unless told otherwise", () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toEqual({ enabled: true, protocol: "http/protobuf", endpoint: "http://collector:4318" });
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://c/v1/traces", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" })).toEqual({
      enabled: true,
      protocol: "http/json",
      endpoint: "https://c/v1/traces",
    });
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: "otlp" })).toEqual({ enabled: true, protocol: "http/protobuf", endpoint: "http://localhost:4318" });
  });

  it("is off when disabled, or when the exporter is none", () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "true" })).toMatchObject({ enabled: false });
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_TRACES_EXPORTER: "none" })).toMatchObject({ enabled: false, why: "OTEL_TRACES_EXPORTER=none" });
  });

  it("names the variable and the reason for what it cannot honour", () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toMatchObject({ error: expect.stringMatching(/^OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported.*4318/) });
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toMatchObject({ error: expect.stringMatching(/^OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" is not an http/) });
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: "zipkin" })).toMatchObject({ error: expect.stringMatching(/^OTEL_TRACES_EXPORTER: zipkin is not supported/) });
  });
});
