// A sidecar's report of the tool definitions its upstream lists (POST /v1/tool-definitions,
// protocol/tool-definition-report.ts), checked before it is kept, and the annotation it is
// kept in: canonical JSON {tool: "sha256:…"} with sorted keys, so the same view is the
// same text and an unchanged report writes nothing. The leader reads the annotation back
// with the same checks: a pod's annotations can be edited by hand.
import { TOOL_DIGEST_PATTERN } from "../../policy/index.ts";
import { MAX_REPORTED_NAME_LENGTH, MAX_REPORTED_TOOLS } from "../../protocol/index.ts";

export type ReadReport = { ok: true; tools: ReadonlyMap<string, string> } | { ok: false; message: string };

/** A report's body (or an annotation's parsed value), or why it is not one. */
export function readDefinitionReport(value: unknown): ReadReport {
  const tools = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as { tools?: unknown }).tools : undefined;
  return readToolDigests(tools, "tools");
}

/** The annotation's text as a map; undefined when it is absent or not a valid record. */
export function readDefinitionAnnotation(text: string | undefined): ReadonlyMap<string, string> | undefined {
  if (text === undefined) return undefined;
  try {
    const read = readToolDigests(JSON.parse(text), "the annotation");
    return read.ok ? read.tools : undefined;
  } catch {
    return undefined;
  }
}

export function definitionAnnotation(tools: ReadonlyMap<string, string>): string {
  const sorted = [...tools].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(sorted));
}

function readToolDigests(value: unknown, what: string): ReadReport {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, message: `${what} must be an object {"tool name": "sha256:<hex>"}` };
  const entries = Object.entries(value);
  if (entries.length > MAX_REPORTED_TOOLS) return { ok: false, message: `${what} has ${entries.length} tools; at most ${MAX_REPORTED_TOOLS} are kept` };
  const tools = new Map<string, string>();
  for (const [name, digest] of entries) {
    if (name.length === 0 || name.length > MAX_REPORTED_NAME_LENGTH) return { ok: false, message: `${what}: tool names must be 1 to ${MAX_REPORTED_NAME_LENGTH} characters` };
    if (typeof digest !== "string" || !TOOL_DIGEST_PATTERN.test(digest)) return { ok: false, message: `${what}[${JSON.stringify(name.slice(0, 64))}] must be sha256: and 64 lowercase hex digits` };
    tools.set(name, digest);
  }
  return { ok: true, tools };
}
