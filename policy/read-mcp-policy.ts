// Reads an McpPolicy resource (parsed YAML or JSON, or an object from the API server)
// into the typed model. Structure first (every problem found), then the semantic checks
// compilation makes, on whatever part of the policy was readable, so one pass reports
// every problem.

import {
  checkKnownKeys,
  readArray,
  readBoolean,
  readOneOf,
  readRecord,
  readString,
  ProblemCollector,
  type UnknownRecord,
} from "./document-fields.ts";
import {
  DEFAULT_ACTIONS,
  MCP_POLICY_API_VERSION,
  MCP_POLICY_KIND,
  NETWORK_POLICY_SETTINGS,
  POLICY_MODES,
  TOOL_DEFINITION_MODES,
  policyRef,
  type McpPolicy,
  type McpPolicyMetadata,
  type McpPolicySpec,
  type ToolDefinitionsSpec,
} from "./model.ts";
import type { CompileCache } from "./compile-cache.ts";
import { policyProblems } from "./compile-policy.ts";
import { entryPath, fieldPath, indexPath, quoteValue, type PolicyProblem } from "./problems.ts";
import { readIdentity } from "./read-identity.ts";
import { readSelector } from "./read-selector.ts";
import { readRateLimits, readToolRules } from "./read-tool-rule.ts";

export type ReadPolicyResult = { ok: true; policy: McpPolicy } | { ok: false; problems: PolicyProblem[] };

const SPEC_KEYS = [
  "selector",
  "mode",
  "default",
  "hide",
  "networkPolicy",
  "identity",
  "allTools",
  "tools",
  "toolDefinitions",
  "validateServerSchema",
  "advertiseConstraints",
] as const;

/** `cache`: shared by reads that are compiled together next (readPolicyBundle). */
export function readMcpPolicy(value: unknown, cache?: CompileCache): ReadPolicyResult {
  const out = new ProblemCollector();
  const record = readRecord(value, "", out);
  if (record === undefined) return { ok: false, problems: out.problems };
  checkKnownKeys(record, ["apiVersion", "kind", "metadata", "spec", "status"], "", out);
  if (record["apiVersion"] !== MCP_POLICY_API_VERSION) {
    out.add("apiVersion", `${quoteValue(record["apiVersion"])} is not ${MCP_POLICY_API_VERSION}`);
  }
  if (record["kind"] !== MCP_POLICY_KIND) out.add("kind", `${quoteValue(record["kind"])} is not ${MCP_POLICY_KIND}`);
  const metadata = readMetadata(record["metadata"], out);
  const spec = readSpec(record["spec"], out) ?? {};
  const policy: McpPolicy = {
    apiVersion: MCP_POLICY_API_VERSION,
    kind: MCP_POLICY_KIND,
    metadata: metadata ?? { name: "" },
    spec,
  };
  // Semantic checks on the readable part; a field already reported is absent from it.
  const semantic = policyProblems(policy, cache).filter((problem) => metadata !== undefined || !problem.path.startsWith("metadata"));
  const problems = [...out.problems, ...semantic];
  if (problems.length === 0) return { ok: true, policy };
  const ref = metadata === undefined || metadata.name === "" ? undefined : policyRef(policy);
  return { ok: false, problems: ref === undefined ? problems : problems.map((problem) => ({ ...problem, policy: ref })) };
}

function readMetadata(value: unknown, out: ProblemCollector): McpPolicyMetadata | undefined {
  const record = readRecord(value, "metadata", out);
  if (record === undefined) return undefined;
  // ObjectMeta has many more fields (labels, managedFields, ...); the policy core ignores them.
  const before = out.count;
  const name = readString(record["name"], "metadata.name", out);
  const metadata: McpPolicyMetadata = { name: name ?? "" };
  if (record["namespace"] !== undefined) {
    const namespace = readString(record["namespace"], "metadata.namespace", out);
    if (namespace !== undefined) metadata.namespace = namespace;
  }
  if (record["generation"] !== undefined) {
    const generation = record["generation"];
    if (typeof generation === "number" && Number.isSafeInteger(generation) && generation >= 0) metadata.generation = generation;
    else out.add("metadata.generation", `${quoteValue(generation)} is not a whole number`);
  }
  if (record["creationTimestamp"] !== undefined) {
    const timestamp = record["creationTimestamp"];
    // YAML may have read an unquoted timestamp as a Date.
    const text = timestamp instanceof Date ? timestamp.toISOString() : timestamp;
    if (typeof text === "string" && !Number.isNaN(Date.parse(text))) metadata.creationTimestamp = text;
    else out.add("metadata.creationTimestamp", `${quoteValue(timestamp)} is not an RFC 3339 time`);
  }
  if (record["uid"] !== undefined) {
    const uid = readString(record["uid"], "metadata.uid", out);
    if (uid !== undefined) metadata.uid = uid;
  }
  return out.count > before ? undefined : metadata;
}

function readSpec(value: unknown, out: ProblemCollector): McpPolicySpec | undefined {
  const record = readRecord(value, "spec", out);
  if (record === undefined) return undefined;
  checkKnownKeys(record, SPEC_KEYS, "spec", out, { version: "a PolicyLayer field; an McpPolicy has apiVersion and kind" });
  const spec: McpPolicySpec = {};
  const has = (key: string): boolean => record[key] !== undefined;
  if (has("selector")) assign(spec, "selector", readSelector(record["selector"], "spec.selector", out));
  if (has("mode")) assign(spec, "mode", readOneOf(record["mode"], POLICY_MODES, "spec.mode", out));
  if (has("default")) assign(spec, "default", readOneOf(record["default"], DEFAULT_ACTIONS, "spec.default", out));
  if (has("hide")) assign(spec, "hide", readHide(record["hide"], out));
  if (has("networkPolicy")) {
    assign(spec, "networkPolicy", readOneOf(record["networkPolicy"], NETWORK_POLICY_SETTINGS, "spec.networkPolicy", out));
  }
  if (has("identity")) assign(spec, "identity", readIdentity(record["identity"], "spec.identity", out));
  if (has("allTools")) assign(spec, "allTools", readAllTools(record["allTools"], out));
  if (has("tools")) assign(spec, "tools", readToolRules(record["tools"], "spec.tools", "McpPolicy", out));
  if (has("toolDefinitions")) assign(spec, "toolDefinitions", readToolDefinitions(record["toolDefinitions"], out));
  if (has("validateServerSchema")) assign(spec, "validateServerSchema", readBoolean(record["validateServerSchema"], "spec.validateServerSchema", out));
  if (has("advertiseConstraints")) assign(spec, "advertiseConstraints", readBoolean(record["advertiseConstraints"], "spec.advertiseConstraints", out));
  return spec;
}

function assign<K extends keyof McpPolicySpec>(spec: McpPolicySpec, key: K, value: McpPolicySpec[K] | undefined): void {
  if (value !== undefined) spec[key] = value;
}

function readHide(value: unknown, out: ProblemCollector): string[] | undefined {
  const list = readArray(value, "spec.hide", out);
  if (list === undefined) return undefined;
  const before = out.count;
  const hide = list.map((item, index) => readString(item, indexPath("spec.hide", index), out) ?? "");
  return out.count > before ? undefined : hide;
}

/** The shape; whether each pin is a digest is checked when the policy is compiled. */
function readToolDefinitions(value: unknown, out: ProblemCollector): ToolDefinitionsSpec | undefined {
  const path = "spec.toolDefinitions";
  const record = readRecord(value, path, out);
  if (record === undefined) return undefined;
  checkKnownKeys(record, ["mode", "pins"], path, out);
  const before = out.count;
  const definitions: ToolDefinitionsSpec = {};
  if (record["mode"] !== undefined) {
    const mode = readOneOf(record["mode"], TOOL_DEFINITION_MODES, fieldPath(path, "mode"), out);
    if (mode !== undefined) definitions.mode = mode;
  }
  if (record["pins"] !== undefined) {
    const pinsRecord = readRecord(record["pins"], fieldPath(path, "pins"), out);
    // Without prototype: a tool called `__proto__` is just a key.
    const pins = Object.create(null) as Record<string, string>;
    for (const [name, digest] of Object.entries(pinsRecord ?? {})) {
      const text = readString(digest, entryPath(fieldPath(path, "pins"), name), out);
      if (text !== undefined) pins[name] = text;
    }
    definitions.pins = pins;
  }
  return out.count > before ? undefined : definitions;
}

function readAllTools(value: unknown, out: ProblemCollector): McpPolicySpec["allTools"] {
  const record: UnknownRecord | undefined = readRecord(value, "spec.allTools", out);
  if (record === undefined) return undefined;
  checkKnownKeys(record, ["limits"], "spec.allTools", out);
  if (record["limits"] === undefined) return {};
  const limits = readRateLimits(record["limits"], fieldPath("spec.allTools", "limits"), out);
  return limits === undefined ? undefined : { limits };
}
