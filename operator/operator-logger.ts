// Structured logs (pino, JSON lines on stderr) in the sidecar's format
// (protocol/log-format.ts). Components take the Logger they are given,
// usually a child with a `component` field.
import { pino, type DestinationStream, type Logger } from "pino";
import { logFormat } from "../protocol/log-format.ts";

export type OperatorLogger = Logger;

export function createOperatorLogger(level: string = "info", destination: DestinationStream = pino.destination(2)): OperatorLogger {
  return pino({ level, ...logFormat("mcp-warden-operator") }, destination);
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): OperatorLogger {
  return pino({ level: "silent" });
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
