// What the operator and the sidecar ask of tracing, without importing OpenTelemetry: the
// implementation (start-tracing.ts) is loaded only when tracing is on.

type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

interface SpanHandle {
  setAttributes(attributes: SpanAttributes): void;
}

export interface SpanRecorder {
  /** Runs `work` in a span; an error it throws marks the span failed and is rethrown. */
  inSpan<T>(name: string, attributes: SpanAttributes, work: (span: SpanHandle) => Promise<T>): Promise<T>;
  /** A span for work already done: from `startedAt` (a performance.now() reading) to now. */
  record(name: string, attributes: SpanAttributes, startedAt: number): void;
}

/** Where tracing logs that it is on, and export failures. */
export interface TracingLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}
