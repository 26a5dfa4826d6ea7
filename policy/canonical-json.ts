// RFC 8785 (JCS) canonical JSON, the one text digests are taken over: argument digests
// (audit lines, approvals) and tool definition digests (pins). The same value written
// with another key order, spacing or number spelling gives the same text.

import canonicalize from "canonicalize";

/**
 * RFC 8785 has no form for strings with lone surrogates (`"\ud800"` is valid JSON, not
 * I-JSON); those are written by JSON.stringify with sorted keys instead, which escapes
 * them as `\udXXX` — text no canonical form contains, so the two kinds of input never
 * share a digest.
 */
export function canonicalJson(value: unknown): string {
  try {
    return canonicalize(value) ?? "null";
  } catch {
    return JSON.stringify(value, sortedKeys) ?? "null";
  }
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  // Without a prototype: a key `__proto__` stays a key.
  const sorted = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value).sort()) sorted[key] = (value as Record<string, unknown>)[key];
  return sorted;
}
