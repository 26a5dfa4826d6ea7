// Reads a PolicyLayer document (`{"version":"1","default":...,"tools":{...}}`) into the
// same McpPolicy model, with the same meaning. A PolicyLayer document has no name,
// namespace or selector: the caller supplies them (the CLI from flags or the file name).
// Problems are reported with PolicyLayer paths (`tools["x"].limits[0].window`).

import { checkKnownKeys, readOneOf, readRecord, ProblemCollector } from "./document-fields.ts";
import { policyProblems } from "./compile-policy.ts";
import { DEFAULT_ACTIONS, MCP_POLICY_API_VERSION, MCP_POLICY_KIND, type LabelSelector, type McpPolicy } from "./model.ts";
import { quoteValue, type PolicyProblem } from "./problems.ts";
import type { ReadPolicyResult } from "./read-mcp-policy.ts";
import { readToolRules } from "./read-tool-rule.ts";

export interface PolicyLayerOptions {
  name: string;
  namespace?: string;
  selector?: LabelSelector;
}

const POLICY_LAYER_VERSION = "1";
/**
 * PolicyLayer has no approval timeout and an McpPolicy requires one with action: approve,
 * so an imported approve rule gets this (written out by `policy import`, easy to change).
 */
const POLICY_LAYER_APPROVAL_TIMEOUT = "10m";

export function readPolicyLayer(value: unknown, options: PolicyLayerOptions): ReadPolicyResult {
  const out = new ProblemCollector();
  const record = readRecord(value, "", out);
  if (record === undefined) return { ok: false, problems: out.problems };
  checkKnownKeys(record, ["version", "default", "tools"], "", out, {
    hide: "not a PolicyLayer field; write an McpPolicy to hide tools",
    mode: "not a PolicyLayer field; write an McpPolicy for audit mode",
    identity: "not a PolicyLayer field; write an McpPolicy to set the identity",
    allTools: "not a PolicyLayer field; write an McpPolicy for limits on every tool",
  });
  if (record["version"] !== POLICY_LAYER_VERSION) {
    out.add("version", `${quoteValue(record["version"])} is not a PolicyLayer version this reads (use "1")`);
  }
  const policy: McpPolicy = {
    apiVersion: MCP_POLICY_API_VERSION,
    kind: MCP_POLICY_KIND,
    metadata: { name: options.name },
    spec: {},
  };
  if (options.namespace !== undefined) policy.metadata.namespace = options.namespace;
  if (options.selector !== undefined) policy.spec.selector = options.selector;
  if (record["default"] !== undefined) {
    const action = readOneOf(record["default"], DEFAULT_ACTIONS, "default", out);
    if (action !== undefined) policy.spec.default = action;
  }
  if (record["tools"] !== undefined) {
    const tools = readToolRules(record["tools"], "tools", "PolicyLayer", out);
    if (tools !== undefined) {
      for (const rule of Object.values(tools)) if (rule.action === "approve") rule.approval = { timeout: POLICY_LAYER_APPROVAL_TIMEOUT };
      policy.spec.tools = tools;
    }
  }
  const problems: PolicyProblem[] = [...out.problems, ...policyProblems(policy).map(toPolicyLayerPath)];
  return problems.length === 0 ? { ok: true, policy } : { ok: false, problems };
}

/** `spec.tools[...]` in the model is `tools[...]` in the document the user wrote. */
function toPolicyLayerPath(problem: PolicyProblem): PolicyProblem {
  const path = problem.path.startsWith("spec.") ? problem.path.slice("spec.".length) : problem.path;
  return { ...problem, path };
}
