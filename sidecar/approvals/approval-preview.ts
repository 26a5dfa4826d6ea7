// The preview a person reads before deciding (ARCHITECTURE.md "Approvals"): enough to judge
// the call, never the secrets in it. Keys that look like credentials are masked at any
// depth, long strings are cut, and the whole preview stays within 1 KiB.

const SECRET_KEY = /pass|secret|token|key|auth|cookie/i;
const PREVIEW_STRING_LIMIT = 64;
export const PREVIEW_BYTE_LIMIT = 1024;
const MASK = "***";
const MAX_DEPTH = 16;

/** The arguments as redacted JSON text of at most PREVIEW_BYTE_LIMIT bytes. */
export function approvalPreview(args: unknown): string {
  const text = JSON.stringify(redact(args ?? {}, 0)) ?? "{}";
  return cutToBytes(text, PREVIEW_BYTE_LIMIT);
}

function redact(value: unknown, depth: number): unknown {
  if (typeof value === "string") return value.length > PREVIEW_STRING_LIMIT ? `${value.slice(0, PREVIEW_STRING_LIMIT)}…` : value;
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "…";
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = SECRET_KEY.test(key) ? MASK : redact(item, depth + 1);
  return out;
}

/** Cut at a character boundary so the bytes stay valid UTF-8; "…" marks the cut. */
function cutToBytes(text: string, limit: number): string {
  if (Buffer.byteLength(text) <= limit) return text;
  const marker = "…";
  let cut = "";
  let bytes = 0;
  const room = limit - Buffer.byteLength(marker);
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > room) break;
    cut += char;
    bytes += size;
  }
  return cut + marker;
}
