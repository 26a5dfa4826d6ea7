// JSON logs on stdout (pino). Secrets never reach them: nothing logs request headers,
// and the paths where a token could hide are redacted in case a future line does.

import { pino, type Level, type Logger } from "pino";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// Exact paths only: a wildcard path (`*.token`) makes the redactor walk every line, which
// cost 14 µs per audit line — more than the rest of the decision path.
const REDACTED_PATHS = [
  "authorization",
  "token",
  "password",
  "secret",
  "headers.authorization",
  "headers.cookie",
  "req.headers.authorization",
  "req.headers.cookie",
  "err.config.headers.authorization",
];

export interface SidecarLoggerOptions {
  level?: LogLevel;
  /**
   * Default: stdout, written asynchronously (lines written while a write is pending are
   * coalesced, so a slow reader never blocks a call) — flush with `logger.flush()`
   * before exiting. No minimum buffer length: a quiet sidecar's lines must not wait.
   */
  destination?: NodeJS.WritableStream;
}

export function createSidecarLogger(options: SidecarLoggerOptions = {}): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level: options.level ?? "info",
      base: { component: "sidecar" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** Audit lines are written at `info` even when the logs are quieter; only `silent` stops them. */
export function auditLevel(level: Level | "silent"): Level | "silent" {
  return level === "silent" || level === "trace" || level === "debug" ? level : "info";
}
