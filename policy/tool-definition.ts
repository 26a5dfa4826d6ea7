// A tool's definition digest (the pin of spec.toolDefinitions): SHA-256 of the RFC 8785
// canonical JSON of the fields of the tool object that say what the tool is and does —
// name, title, description, inputSchema, outputSchema, annotations, those present —
// exactly as the server listed them. The sidecar digests a listing before it changes
// anything in it; `mcp-warden policy pin` and the operator's status use the same function.

import { hash } from "node:crypto";
import { canonicalJson } from "./canonical-json.ts";

const TOOL_DEFINITION_FIELDS = ["name", "title", "description", "inputSchema", "outputSchema", "annotations"] as const;

/** `sha256:` and 64 lowercase hex digits: how pins, status and reports write a digest. */
export const TOOL_DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** The digest of one tool object of a tools/list result; other fields (`_meta`, `icons`, …) do not count. */
export function toolDefinitionDigest(tool: Readonly<Record<string, unknown>>): string {
  const definition = Object.create(null) as Record<string, unknown>;
  for (const field of TOOL_DEFINITION_FIELDS) {
    if (Object.hasOwn(tool, field) && tool[field] !== undefined) definition[field] = tool[field];
  }
  return `sha256:${hash("sha256", canonicalJson(definition), "hex")}`;
}

/** Why `value` is not a digest, or undefined when it is one. */
export function toolDigestProblem(value: string): string | undefined {
  if (TOOL_DIGEST_PATTERN.test(value)) return undefined;
  const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return `${JSON.stringify(shown)} is not a tool definition digest (sha256: and 64 lowercase hex digits, as mcp-warden policy pin prints)`;
}
