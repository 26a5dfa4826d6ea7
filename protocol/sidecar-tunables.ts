// The sidecar's caps and timeouts: one table for the flag (`mcp-warden sidecar`), the pod
// annotation the injector reads, and the value the injector derives from the sidecar's
// memory limit. What the sidecar must hold in memory is bounded by the caps; the formulas
// keep the worst case of one request under the limit (docs/architecture.md "Bounded
// memory"). Pure: values and parsers only.

type TunableKind = "bytes" | "count" | "duration";

export interface SidecarTunable {
  /** The sidecar's flag, e.g. `--max-request-bytes`. */
  readonly flag: string;
  /** The pod annotation that sets it for one pod. */
  readonly annotation: string;
  readonly kind: TunableKind;
  readonly description: string;
  /** Bytes, a count, or milliseconds. */
  readonly defaultValue: number;
  /** The injector's value for a sidecar with this memory limit (bytes); undefined: the default. */
  readonly fromMemoryLimit?: (limitBytes: number) => number;
}

const MiB = 1024 * 1024;

/** Bytes rounded down to whole KiB, at least `floor`. */
function share(limitBytes: number, divisor: number, floor: number): number {
  return Math.max(floor, Math.floor(limitBytes / divisor / 1024) * 1024);
}

export const SIDECAR_TUNABLES = {
  maxRequestBytes: {
    flag: "--max-request-bytes",
    annotation: "mcpwarden.dev/max-request-bytes",
    kind: "bytes",
    description: "largest request body a client may send (read whole: it is decided)",
    defaultValue: 4 * MiB,
    fromMemoryLimit: (limit) => Math.min(4 * MiB, share(limit, 64, 256 * 1024)),
  },
  maxInspectedReplyBytes: {
    flag: "--max-inspected-reply-bytes",
    annotation: "mcpwarden.dev/max-inspected-reply-bytes",
    kind: "bytes",
    description: "largest reply the sidecar reads whole to rewrite it (a tools/list result it filters, an initialize result, a batch it merges); every other reply streams",
    defaultValue: 8 * MiB,
    fromMemoryLimit: (limit) => share(limit, 32, MiB),
  },
  maxStdioLineBytes: {
    flag: "--max-stdio-line-bytes",
    annotation: "mcpwarden.dev/max-stdio-line-bytes",
    kind: "bytes",
    description: "largest message line a stdio server may write (a line is read whole: its id routes it)",
    defaultValue: 16 * MiB,
    fromMemoryLimit: (limit) => share(limit, 16, MiB),
  },
  maxPendingServerMessageBytes: {
    flag: "--max-pending-server-message-bytes",
    annotation: "mcpwarden.dev/max-pending-server-message-bytes",
    kind: "bytes",
    description: "server messages held for a stdio session's client that is not reading (its backlog, or a stream it does not drain)",
    defaultValue: 8 * MiB,
    fromMemoryLimit: (limit) => share(limit, 32, MiB),
  },
  maxConnections: {
    flag: "--max-connections",
    annotation: "mcpwarden.dev/max-connections",
    kind: "count",
    description: "concurrent client connections; more are answered 503 with Retry-After",
    defaultValue: 1024,
    fromMemoryLimit: (limit) => Math.max(64, Math.floor(limit / (256 * 1024))),
  },
  maxSessions: {
    flag: "--max-sessions",
    annotation: "mcpwarden.dev/max-sessions",
    kind: "count",
    description: "live MCP sessions (with a stdio server, each is a server process); an initialize beyond it is answered 503 with Retry-After",
    defaultValue: 1000,
  },
  sessionIdleTimeout: {
    flag: "--session-idle-timeout",
    annotation: "mcpwarden.dev/session-idle-timeout",
    kind: "duration",
    description: "a session unused this long is forgotten (a stdio server process is ended)",
    defaultValue: 30 * 60_000,
  },
  headerTimeout: {
    flag: "--header-timeout",
    annotation: "mcpwarden.dev/header-timeout",
    kind: "duration",
    description: "a client must send its request headers within this time",
    defaultValue: 10_000,
  },
  bodyTimeout: {
    flag: "--body-timeout",
    annotation: "mcpwarden.dev/body-timeout",
    kind: "duration",
    description: "a client must send its request body within this time after its headers (never limits replies, streams or held calls)",
    defaultValue: 30_000,
  },
  upstreamTimeout: {
    flag: "--upstream-timeout",
    annotation: "mcpwarden.dev/upstream-timeout",
    kind: "duration",
    description: "how long the MCP server may stay silent on a request before the client gets a timeout error (progress restarts it)",
    defaultValue: 120_000,
  },
} as const satisfies Record<string, SidecarTunable>;

export type SidecarTunableName = keyof typeof SIDECAR_TUNABLES;
export type SidecarTunableValues = { readonly [name in SidecarTunableName]?: number };

export const SIDECAR_TUNABLE_NAMES = Object.keys(SIDECAR_TUNABLES) as SidecarTunableName[];

/** Paths other than the MCP endpoints that the sidecar forwards (repeatable flag; comma-separated annotation). */
export const FORWARD_PATH_FLAG = "--forward-path";
export const FORWARD_PATHS_ANNOTATION = "mcpwarden.dev/forward-paths";

export type TunableRead = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly message: string };

const BYTE_UNITS: Readonly<Record<string, number>> = { "": 1, Ki: 1024, Mi: MiB, Gi: 1024 * MiB, k: 1e3, M: 1e6, G: 1e9 };
const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** Beyond these a value is a typo, not a setting. */
const MAX_BYTES = 64 * 1024 * MiB;
const MAX_COUNT = 1_000_000;
const MAX_DURATION_MS = 7 * 24 * 3_600_000;

/**
 * A tunable's value as written in a flag or annotation: bytes as `4194304`, `4Mi` or
 * `512Ki`; a count as a whole number; a duration as `90s`, `10m`, `1h` or `500ms`. Zero,
 * negative and malformed values are refused with the reason.
 */
export function readTunable(tunable: SidecarTunable, text: string, label: string = tunable.flag): TunableRead {
  const written = JSON.stringify(text);
  switch (tunable.kind) {
    case "bytes": {
      const match = /^([0-9]+)(Ki|Mi|Gi|k|M|G)?$/.exec(text.trim());
      const value = match === null ? Number.NaN : Number(match[1]) * (BYTE_UNITS[match[2] ?? ""] as number);
      if (!Number.isSafeInteger(value) || value <= 0 || value > MAX_BYTES) {
        return { ok: false, message: `${label} must be a size above 0 such as 4Mi, 512Ki or 1048576, at most 64Gi, got ${written}` };
      }
      return { ok: true, value };
    }
    case "count": {
      const value = /^[0-9]+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
      if (!Number.isSafeInteger(value) || value <= 0 || value > MAX_COUNT) {
        return { ok: false, message: `${label} must be a whole number from 1 to ${MAX_COUNT}, got ${written}` };
      }
      return { ok: true, value };
    }
    case "duration": {
      const match = /^([0-9]+)(ms|s|m|h)$/.exec(text.trim());
      const value = match === null ? Number.NaN : Number(match[1]) * (DURATION_UNITS[match[2] as string] as number);
      if (!Number.isSafeInteger(value) || value <= 0 || value > MAX_DURATION_MS) {
        return { ok: false, message: `${label} must be a duration above 0 such as 500ms, 30s, 10m or 2h, at most 168h, got ${written}` };
      }
      return { ok: true, value };
    }
  }
}

/** How a value is written back (for flags the injector sets, and for messages). */
export function writeTunable(tunable: SidecarTunable, value: number): string {
  switch (tunable.kind) {
    case "bytes":
      return value % MiB === 0 ? `${value / MiB}Mi` : value % 1024 === 0 ? `${value / 1024}Ki` : String(value);
    case "count":
      return String(value);
    case "duration":
      return value % 3_600_000 === 0 ? `${value / 3_600_000}h` : value % 60_000 === 0 ? `${value / 60_000}m` : value % 1000 === 0 ? `${value / 1000}s` : `${value}ms`;
  }
}
