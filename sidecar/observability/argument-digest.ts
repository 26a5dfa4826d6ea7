// The argument digest of audit lines and approvals (ARCHITECTURE.md "Approvals"):
// SHA-256 hex of the RFC 8785 (JCS) canonical JSON of a call's arguments, so the same
// arguments written with other key order, spacing or number spelling digest alike.

import canonicalize from "canonicalize";
import { hash } from "node:crypto";

/**
 * Absent arguments mean `{}` (as in evaluateCall). RFC 8785 has no form for strings with
 * lone surrogates (`"\ud800"` is valid JSON, not I-JSON); those are digested from
 * JSON.stringify instead, which escapes them as `\udXXX` — text no canonical form
 * contains, so the two kinds of input never share a digest.
 */
export function argumentDigest(args: unknown): string {
  // One-shot: no Hash object per call (about half the cost of createHash().update().digest()).
  return hash("sha256", canonicalArguments(args), "hex");
}

export function canonicalArguments(args: unknown): string {
  const value = args === undefined ? {} : args;
  try {
    return canonicalize(value) ?? "null";
  } catch {
    return JSON.stringify(value, sortedKeys) ?? "null";
  }
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = (value as Record<string, unknown>)[key];
  return sorted;
}
