// Windows and timeouts, with the grammar the CRD validates (crds/README.md "Formats"), so
// a policy the API server accepted is never rejected here for its spelling: a unit word
// (PolicyLayer's "minute"), a Go-style duration ("90s", "1h30m", "1.5h"), or, for
// windows, a whole number of seconds (PolicyLayer's `"window": 60`).

const UNIT_WORDS: Readonly<Record<string, number>> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const GO_DURATION = /^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+$/;
const GO_DURATION_PART = /([0-9]+)(?:\.([0-9]+))?(ns|us|µs|ms|s|m|h)/g;
const UNIT_NANOSECONDS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1000n,
  µs: 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** 720h, as the CRD allows. */
const MAX_WINDOW_MS = 720 * 3_600_000;
const MIN_DURATION_MS = 1000;
const MAX_APPROVAL_TIMEOUT_MS = 24 * 3_600_000;

export type WindowResult = { ok: true; ms: number } | { ok: false; message: string };

export function parseWindow(value: unknown): WindowResult {
  const written = JSON.stringify(value) ?? String(value);
  const syntax = `${written} is not a window (use second|minute|hour|day, a duration like 90s, or seconds)`;
  let ms: number | undefined;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) return { ok: false, message: syntax };
    ms = value * 1000;
  } else if (typeof value === "string") {
    if (/^[0-9]+$/.test(value)) return { ok: false, message: `${written} is not a window (write the number ${value} or ${value}s)` };
    ms = Object.hasOwn(UNIT_WORDS, value) ? UNIT_WORDS[value] : goDurationMs(value);
  }
  if (ms === undefined) return { ok: false, message: syntax };
  if (ms < MIN_DURATION_MS || ms > MAX_WINDOW_MS) return { ok: false, message: `${written} is not a window from 1s to 720h` };
  return { ok: true, ms };
}

export function parseApprovalTimeout(value: unknown): WindowResult {
  const written = JSON.stringify(value) ?? String(value);
  const ms = typeof value === "string" ? goDurationMs(value) : undefined;
  if (ms === undefined) return { ok: false, message: `${written} is not a duration (write e.g. 30s, 10m or 1h30m)` };
  if (ms < MIN_DURATION_MS || ms > MAX_APPROVAL_TIMEOUT_MS) return { ok: false, message: `${written} is not a timeout from 1s to 24h` };
  return { ok: true, ms };
}

/** Whole milliseconds (a sub-millisecond rest rounds up: the stricter window), or undefined. */
function goDurationMs(text: string): number | undefined {
  if (text.length > 64 || !GO_DURATION.test(text)) return undefined;
  let nanoseconds = 0n;
  for (const [, whole, fraction = "", unit] of text.matchAll(GO_DURATION_PART)) {
    const scale = UNIT_NANOSECONDS[unit as string] as bigint;
    const digits = 10n ** BigInt(fraction.length);
    nanoseconds += BigInt(whole as string) * scale + (BigInt(fraction === "" ? "0" : fraction) * scale + digits - 1n) / digits;
  }
  const ms = (nanoseconds + 999_999n) / 1_000_000n;
  return ms > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(ms);
}

/** "minute", "90s", "2h": how a window reads back in messages. */
export function describeMs(ms: number): string {
  for (const [word, length] of Object.entries(UNIT_WORDS)) if (length === ms) return word;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
