// Policy files: YAML or JSON text (JSON is read by the YAML parser, so duplicate keys are
// an error in both), one or more documents, each an McpPolicy or a PolicyLayer document.
// Untrusted text: aliases are refused (no "billion laughs"), nesting and size are capped,
// only the core schema's plain types are built (no custom tags).

import { loadAll, YAMLException } from "js-yaml";
import { isRecord } from "./document-fields.ts";
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

/** `policyLayer` names PolicyLayer documents, which carry no name of their own. */
export function readPolicyText(text: string, policyLayer: PolicyLayerOptions): PolicyTextResult {
  if (text.length > MAX_POLICY_TEXT_LENGTH) {
    return { ok: false, problems: [{ path: "", message: `is larger than ${MAX_POLICY_TEXT_LENGTH} characters` }] };
  }
  let values: unknown[];
  try {
    values = loadAll(text, { maxAliases: 0, maxDepth: MAX_DEPTH });
  } catch (error) {
    const first = error instanceof YAMLException ? (error.message.split("\n", 1)[0] ?? "") : String(error);
    const message = first.replace(/aliases exceeded maxAliases \(0\)/, "aliases (*name) are not allowed");
    return { ok: false, problems: [{ path: "", message: `is not valid YAML or JSON: ${message}` }] };
  }
  const documents: PolicyDocument[] = [];
  values.forEach((value, index) => {
    // `---` with nothing after it is an empty document, not a policy.
    if (value === null || value === undefined) return;
    documents.push({ document: index + 1, ...readPolicyDocument(value, policyLayer) });
  });
  if (documents.length === 0) return { ok: false, problems: [{ path: "", message: "holds no policy" }] };
  return { ok: true, documents };
}

/** An McpPolicy has apiVersion/kind, a PolicyLayer document has version. */
function readPolicyDocument(
  value: unknown,
  policyLayer: PolicyLayerOptions,
): { format: PolicyFormat | undefined; result: ReadPolicyResult } {
  if (isRecord(value) && (value["apiVersion"] !== undefined || value["kind"] !== undefined)) {
    return { format: "McpPolicy", result: readMcpPolicy(value) };
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
  text: string,
  policyLayer: PolicyLayerOptions,
): { ok: true; policies: McpPolicy[] } | { ok: false; problems: PolicyProblem[] } {
  const read = readPolicyText(text, policyLayer);
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
