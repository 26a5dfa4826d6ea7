export * from "./model.ts";
export * from "./decision.ts";
export type { DecisionTable, IdentityConflict } from "./decision-table.ts";
export { formatProblem, type PolicyProblem } from "./problems.ts";
export { readMcpPolicy, type ReadPolicyResult } from "./read-mcp-policy.ts";
export { ArgumentSchemaCompiler } from "./argument-schema.ts";
export { CompileCache } from "./compile-cache.ts";
export { readPolicyLayer, type PolicyLayerOptions } from "./read-policy-layer.ts";
export {
  readPolicyText,
  readPolicyDocument,
  policiesFromText,
  MAX_POLICY_TEXT_LENGTH,
  type PolicyFormat,
  type PolicyDocument,
  type PolicyTextResult,
} from "./read-policy-text.ts";
export { policyProblems, MAX_LIMIT, MAX_TOOL_RULES, MAX_HIDE_ENTRIES, MAX_LIMITS_PER_LIST, MAX_PINS } from "./compile-policy.ts";
export { compilePolicies, agreeOnIdentity, compareAge, DEFAULT_IDENTITY, type CompileResult } from "./compile-policies.ts";
export { evaluateCall } from "./evaluate-call.ts";
export { agentFacingDecision, TOOL_NOT_FOUND } from "./agent-facing-decision.ts";
export { filterToolsList } from "./filter-tools-list.ts";
export { advertiseConstraints, rateLimitSentence, APPROVAL_SENTENCE } from "./advertise-constraints.ts";
export { toolDefinitionDigest, toolDigestProblem, TOOL_DIGEST_PATTERN, TOOL_DEFINITION_FIELDS } from "./tool-definition.ts";
export { ServerSchemaCompiler } from "./server-schema.ts";
export { unpinnedDefinitions, type UnpinnedDefinition } from "./tool-definition-check.ts";
export { canonicalJson } from "./canonical-json.ts";
export {
  admitCall,
  admitRateLimits,
  rateLimitedDecision,
  type AdmittedCall,
  type AdmitRefusal,
  type RateLimitAdmitter,
} from "./admit-call.ts";
export { createPolicyBundle, readPolicyBundle, type PolicyBundle, type BundlePolicyRef, type ReadBundleResult } from "./bundle.ts";
export { renderPolicyYaml } from "./render-policy-yaml.ts";
export { dnsLabelPrefix, labelKeyProblem, labelValueProblem, objectNameProblem, namespaceProblem } from "./kubernetes-names.ts";
export { globMatches, MAX_TOOL_NAME_LENGTH, MAX_PATTERN_LENGTH } from "./glob.ts";
export { MAX_CONDITION_LENGTH, MAX_COMPREHENSION_DEPTH } from "./cel-condition.ts";
export { MAX_WINDOW_MS, MAX_APPROVAL_TIMEOUT_MS } from "./duration.ts";
export * from "./ratelimit/types.ts";
