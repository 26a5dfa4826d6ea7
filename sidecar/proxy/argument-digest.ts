// The argument digest in decision records and approvals: SHA-256 hex of the RFC 8785
// (JCS) canonical JSON of the arguments. JCS is JSON.stringify's number and string
// output with object keys sorted by UTF-16 code units, which is what JavaScript's
// default sort compares; a dozen lines do not justify a dependency.

import { createHash } from "node:crypto";

export function argumentDigest(args: unknown): string {
  return createHash("sha256").update(canonicalJson(args ?? {})).digest("hex");
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = "{";
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i > 0) out += ",";
    out += `${JSON.stringify(key)}:${canonicalJson(record[key])}`;
  }
  return `${out}}`;
}
