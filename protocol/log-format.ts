// One log format for both processes (docs/architecture.md, "Logs"): pino JSON lines with
// `level` as a label, `time` in ISO 8601 UTC, `app` naming the process
// (mcp-warden-sidecar | mcp-warden-operator), `component` for a part of it where one is
// named, then the line's own fields and `msg`.
import type { LoggerOptions } from "pino";

export type LoggingApp = "mcp-warden-sidecar" | "mcp-warden-operator";

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

/**
 * pino's isoTime, formatted once per millisecond: under load several lines share a
 * millisecond, and Date#toISOString is a measurable part of an audit line.
 */
function isoTimeOncePerMs(): () => string {
  let formattedAt = Number.NaN;
  let formatted = "";
  return () => {
    const now = Date.now();
    if (now !== formattedAt) {
      formattedAt = now;
      formatted = `,"time":"${new Date(now).toISOString()}"`;
    }
    return formatted;
  };
}

/** pino options giving the shared shape; secrets in the usual places are redacted. */
export function logFormat(app: LoggingApp): Pick<LoggerOptions, "base" | "timestamp" | "formatters" | "redact"> {
  return {
    base: { app },
    timestamp: isoTimeOncePerMs(),
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
  };
}
