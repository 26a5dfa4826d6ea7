// Structured logs (pino, JSON lines on stderr). Components take the Logger they are
// given, usually a child with a `component` field.
import { pino, type Logger } from "pino";

export type OperatorLogger = Logger;

export function createOperatorLogger(level: string = "info"): OperatorLogger {
  return pino({ level, base: { app: "mcp-warden-operator" } }, pino.destination(2));
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): OperatorLogger {
  return pino({ level: "silent" });
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
