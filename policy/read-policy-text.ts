// Policy files: YAML or JSON text (JSON is read by the YAML parser, so duplicate keys are
// an error in both), one or more documents, each an McpPolicy or a PolicyLayer document.
// Untrusted text: aliases are refused (no "billion laughs"), nesting and size are capped,
// only the core schema's plain types are built (no custom tags).

import { loadAll, YAMLException } from "js-yaml";
import { isRecord } from "./document-fields.ts";
import type { CompileCache } from "./compile-cache.ts";
import type { McpPolicy } from "./model.ts";
import type { PolicyProblem } from "./problems.ts";
import { readMcpPolicy, type ReadPolicyResult } from "./read-mcp-policy.ts";
import { readPolicyLayer, type PolicyLayerOptions } from "./read-policy-layer.ts";

/** Far above any real policy (the API server stores objects up to 1.5 MiB). */
const MAX_POLICY_TEXT_LENGTH = 4 * 1024 * 1024;
const MAX_DEPTH = 64;

type PolicyFormat = "McpPolicy" | "PolicyLayer";

interface PolicyDocument {
  /** 1-based position in the text. */
  readonly document: number;
  readonly format: PolicyFormat | undefined;
  readonly result: ReadPolicyResult;
}

export type PolicyTextResult =
  | { ok: true; documents: PolicyDocument[] }
  /** The text itself could not be read (not YAML/JSON, too big, no document). */
  | { ok: false; problems: PolicyProblem[] };

export type ParsedPolicyText = { ok: true; values: unknown[] } | { ok: false; problems: PolicyProblem[] };

/** The documents of a text, parsed but not yet read (policyEngineNeeds may look at them first). */
export function parsePolicyText(text: string): ParsedPolicyText {
  if (text.length > MAX_POLICY_TEXT_LENGTH) {
    return { ok: false, problems: [{ path: "", message: `is larger than ${MAX_POLICY_TEXT_LENGTH} characters` }] };
  }
  try {
    return { ok: true, values: loadAll(text, { maxAliases: 0, maxDepth: MAX_DEPTH }) };
  } catch (error) {
    const first = error instanceof YAMLException ? (error.message.split("\n", 1)[0] ?? "") : String(error);
    const message = first.replace(/aliases exceeded maxAliases \(0\)/, "aliases (*name) are not allowed");
    return { ok: false, problems: [{ path: "", message: `is not valid YAML or JSON: ${message}` }] };
  }
}

/**
 * `policyLayer` names PolicyLayer documents, which carry no name of their own. `cache`
 * compiles conditions and schemas with its engines (policy/policy-engines.ts).
 */
export function readPolicyText(text: string | ParsedPolicyText, policyLayer: PolicyLayerOptions, cache?: CompileCache): PolicyTextResult {
  const parsed = typeof text === "string" ? parsePolicyText(text) : text;
  if (!parsed.ok) return parsed;
  const documents: PolicyDocument[] = [];
  parsed.values.forEach((value, index) => {
    // `---` with nothing after it is an empty document, not a policy.
    if (value === null || value === undefined) return;
    documents.push({ document: index + 1, ...readPolicyDocument(value, policyLayer, cache) });
  });
  if (documents.length === 0) return { ok: false, problems: [{ path: "", message: "holds no policy" }] };
  return { ok: true, documents };
}

/** An McpPolicy has apiVersion/kind, a PolicyLayer document has version. */
function readPolicyDocument(
  value: unknown,
  policyLayer: PolicyLayerOptions,
  cache: CompileCache | undefined,
): { format: PolicyFormat | undefined; result: ReadPolicyResult } {
  if (isRecord(value) && (value["apiVersion"] !== undefined || value["kind"] !== undefined)) {
    return { format: "McpPolicy", result: readMcpPolicy(value, cache) };
  }
  if (isRecord(value) && value["version"] !== undefined) {
    return { format: "PolicyLayer", result: readPolicyLayer(value, policyLayer) };
  }
  return {
    format: undefined,
    result: {
      ok: false,
      problems: [{ path: "", message: "is neither an McpPolicy (apiVersion, kind) nor a PolicyLayer document (version)" }],
    },
  };
}

/** Every policy of a text, or every problem (each tagged with its document when there are several). */
export function policiesFromText(
  text: string | ParsedPolicyText,
  policyLayer: PolicyLayerOptions,
  cache?: CompileCache,
): { ok: true; policies: McpPolicy[] } | { ok: false; problems: PolicyProblem[] } {
  const read = readPolicyText(text, policyLayer, cache);
  if (!read.ok) return read;
  const several = read.documents.length > 1;
  const policies: McpPolicy[] = [];
  const problems: PolicyProblem[] = [];
  for (const { document, result } of read.documents) {
    if (result.ok) policies.push(result.policy);
    else for (const problem of result.problems) problems.push(several ? { ...problem, document } : problem);
  }
  return problems.length === 0 ? { ok: true, policies } : { ok: false, problems };
}
