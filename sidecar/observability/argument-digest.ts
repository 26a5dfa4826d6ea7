// The argument digest of audit lines and approvals (ARCHITECTURE.md "Approvals"):
// SHA-256 hex of the RFC 8785 (JCS) canonical JSON of a call's arguments, so the same
// arguments written with other key order, spacing or number spelling digest alike.

import { hash } from "node:crypto";
import { canonicalJson } from "../../policy/index.ts";

/** Absent arguments mean `{}` (as in evaluateCall); lone surrogates: see canonicalJson. */
export function argumentDigest(args: unknown): string {
  // One-shot: no Hash object per call (about half the cost of createHash().update().digest()).
  return hash("sha256", canonicalArguments(args), "hex");
}

export function canonicalArguments(args: unknown): string {
  return canonicalJson(args === undefined ? {} : args);
}
