// JSON logs on stdout (pino), in the format the operator shares (protocol/log-format.ts). Secrets
// never reach them: nothing logs request headers, and the paths where a token could hide
// are redacted in case a future line does.

import { pino, type DestinationStream, type Level, type Logger } from "pino";
import { logFormat } from "../../protocol/log-format.ts";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface SidecarLoggerOptions {
  level?: LogLevel;
  /**
   * Default: stdout, written asynchronously and in batches (see stdoutDestination) —
   * flush with `logger.flush()` before exiting.
   */
  destination?: DestinationStream;
}

/** Lines wait at most this long in the buffer. */
const LOG_FLUSH_INTERVAL_MS = 100;

/**
 * One write per audit line cost a syscall per call (4% of the sidecar's CPU under load),
 * and one per 4 KiB still ~5% (each write goes through libuv's thread pool), so lines are
 * buffered up to 12 KiB (sonic-boom writes at most 16 KiB at once) — and flushed every
 * 100 ms, so a quiet sidecar's lines never wait longer. Asynchronous: a slow log reader
 * never blocks a call.
 */
function stdoutDestination(): DestinationStream {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 12 * 1024 });
  setInterval(() => destination.flush(), LOG_FLUSH_INTERVAL_MS).unref();
  return destination;
}

export function createSidecarLogger(options: SidecarLoggerOptions = {}): Logger {
  const destination = options.destination ?? stdoutDestination();
  return pino(
    {
      level: options.level ?? "info",
      ...logFormat("mcp-warden-sidecar"),
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
