// The OpenTelemetry SDK for one process: a tracer provider with the OTLP/HTTP exporter
// behind a batch processor, the W3C trace-context propagator, and export failures in the
// process's own log. Loaded only through load-tracing.ts, when tracing is on. The
// exporter, the batch processor and the sampler read the rest of the standard OTEL_*
// variables themselves (headers, timeouts, OTEL_BSP_*, OTEL_TRACES_SAMPLER…).

import { diag, DiagLogLevel, SpanStatusCode, trace, type Attributes, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
// Imported statically: this module is itself the lazily loaded part, and a dynamic import of
// a CommonJS package inside the split build yields only its default export.
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { SpanRecorder, TracingLog } from "./span-recorder.ts";
import type { OtlpProtocol } from "./tracing-settings.ts";

export interface Tracing extends SpanRecorder {
  readonly tracer: Tracer;
  readonly propagator: W3CTraceContextPropagator;
  /** Exports what is buffered, then stops. */
  shutdown(): Promise<void>;
}

export function startTracing(protocol: OtlpProtocol, service: { readonly name: string; readonly version: string }, log: TracingLog): Tracing {
  // The SDK reports export failures through diag; without a logger they vanish.
  diag.setLogger(
    {
      error: (message, ...args) => log.warn({ detail: args.map(String).join(" ") }, `tracing: ${message}`),
      warn: (message, ...args) => log.warn({ detail: args.map(String).join(" ") }, `tracing: ${message}`),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const exporter: SpanExporter = protocol === "http/json" ? new JsonExporter() : new ProtobufExporter();
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the defaults.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ "service.name": service.name, "service.version": service.version }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  const tracer = provider.getTracer("mcp-warden", service.version);
  return {
    tracer,
    propagator: new W3CTraceContextPropagator(),
    async inSpan(name, attributes, work) {
      const span = tracer.startSpan(name, { attributes: attributes as Attributes });
      try {
        return await work({ setAttributes: (more) => void span.setAttributes(more as Attributes) });
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        span.end();
      }
    },
    record(name, attributes, startedAt) {
      tracer.startSpan(name, { attributes: attributes as Attributes, startTime: performance.timeOrigin + startedAt }).end();
    },
    async shutdown() {
      await provider.shutdown();
      trace.disable();
    },
  };
}
