// Structural reading of tool rules and rate limits, shared by both formats: the shape and
// types of each field. What the values mean (windows, globs, CEL, schemas) is checked when
// the policy is compiled, so both formats get the same semantic checks.

import {
  checkKnownKeys,
  readArray,
  readOneOf,
  readRecord,
  readString,
  type ProblemCollector,
} from "./document-fields.ts";
import { RATE_LIMIT_SCOPES, TOOL_ACTIONS, type JsonSchema, type RateLimitSpec, type ToolRuleSpec } from "./model.ts";
import { entryPath, fieldPath, indexPath, jsonTypeOf } from "./problems.ts";

export type RuleFormat = "McpPolicy" | "PolicyLayer";

const MCP_RULE_KEYS = ["action", "reason", "limits", "arguments", "when", "approval"] as const;
const POLICY_LAYER_RULE_KEYS = ["action", "reason", "limits"] as const;
const LIMIT_KEYS = ["counter", "window", "max", "scope"] as const;

const RULE_HINTS: Readonly<Record<string, string>> = {
  rate_limit: "rate limits are written limits: [{counter, window, max, scope}]",
  rateLimit: "rate limits are written limits: [{counter, window, max, scope}]",
  limit: "rate limits are written limits: [{counter, window, max, scope}]",
};
const POLICY_LAYER_RULE_HINTS: Readonly<Record<string, string>> = {
  ...RULE_HINTS,
  arguments: "not a PolicyLayer field; write an McpPolicy to check arguments",
  when: "not a PolicyLayer field; write an McpPolicy to use conditions",
  approval: "not a PolicyLayer field; write an McpPolicy to set an approval timeout",
};

/** Reads `tools` into a record without prototype, so a tool called `__proto__` is just a key. */
export function readToolRules(
  value: unknown,
  path: string,
  format: RuleFormat,
  out: ProblemCollector,
): Record<string, ToolRuleSpec> | undefined {
  const record = readRecord(value, path, out);
  if (record === undefined) return undefined;
  const rules = Object.create(null) as Record<string, ToolRuleSpec>;
  for (const [name, ruleValue] of Object.entries(record)) {
    const rule = readToolRule(ruleValue, entryPath(path, name), format, out);
    if (rule !== undefined) rules[name] = rule;
  }
  return rules;
}

function readToolRule(value: unknown, path: string, format: RuleFormat, out: ProblemCollector): ToolRuleSpec | undefined {
  // `list_runs:` with nothing after it is YAML null: the same as `{}`, a plain allow.
  if (value === null) return {};
  const record = readRecord(value, path, out);
  if (record === undefined) return undefined;
  if (format === "McpPolicy") checkKnownKeys(record, MCP_RULE_KEYS, path, out, RULE_HINTS);
  else checkKnownKeys(record, POLICY_LAYER_RULE_KEYS, path, out, POLICY_LAYER_RULE_HINTS);

  const rule: ToolRuleSpec = {};
  if (record["action"] !== undefined) {
    const action = readOneOf(record["action"], TOOL_ACTIONS, fieldPath(path, "action"), out);
    if (action !== undefined) rule.action = action;
  }
  if (record["reason"] !== undefined) {
    const reason = readString(record["reason"], fieldPath(path, "reason"), out);
    if (reason !== undefined) rule.reason = reason;
  }
  if (record["limits"] !== undefined) {
    const limits = readRateLimits(record["limits"], fieldPath(path, "limits"), out);
    if (limits !== undefined) rule.limits = limits;
  }
  if (format === "PolicyLayer") return rule;
  if (record["arguments"] !== undefined) {
    const schema = record["arguments"];
    if (typeof schema === "boolean" || (typeof schema === "object" && schema !== null && !Array.isArray(schema))) {
      rule.arguments = schema as JsonSchema;
    } else {
      out.add(fieldPath(path, "arguments"), `must be a JSON Schema (an object or a boolean), not ${jsonTypeOf(schema)}`);
    }
  }
  if (record["when"] !== undefined) {
    const when = readString(record["when"], fieldPath(path, "when"), out);
    if (when !== undefined) rule.when = when;
  }
  if (record["approval"] !== undefined) {
    const approvalPath = fieldPath(path, "approval");
    const approval = readRecord(record["approval"], approvalPath, out);
    if (approval !== undefined) {
      checkKnownKeys(approval, ["timeout"], approvalPath, out);
      const timeout = readString(approval["timeout"], fieldPath(approvalPath, "timeout"), out);
      if (timeout !== undefined) rule.approval = { timeout };
    }
  }
  return rule;
}

export function readRateLimits(value: unknown, path: string, out: ProblemCollector): RateLimitSpec[] | undefined {
  const list = readArray(value, path, out);
  if (list === undefined) return undefined;
  const limits: RateLimitSpec[] = [];
  list.forEach((item, index) => {
    const limit = readRateLimit(item, indexPath(path, index), out);
    if (limit !== undefined) limits.push(limit);
  });
  // Keep indexes meaningful: if an entry was unreadable the list is reported, not renumbered.
  return limits.length === list.length ? limits : undefined;
}

function readRateLimit(value: unknown, path: string, out: ProblemCollector): RateLimitSpec | undefined {
  const record = readRecord(value, path, out);
  if (record === undefined) return undefined;
  checkKnownKeys(record, LIMIT_KEYS, path, out, { rate: "the budget is written max (calls) per window", limit: "write max" });
  const before = out.count;
  const counter = readString(record["counter"], fieldPath(path, "counter"), out);
  const window = record["window"];
  if (typeof window !== "string" && typeof window !== "number") {
    out.add(
      fieldPath(path, "window"),
      window === undefined
        ? "is required (second|minute|hour|day, a duration like 90s, or seconds)"
        : `must be a word, a duration or a number of seconds, not ${jsonTypeOf(window)}`,
    );
  }
  const max = record["max"];
  if (typeof max !== "number") {
    out.add(fieldPath(path, "max"), max === undefined ? "is required" : `must be a number, not ${jsonTypeOf(max)}`);
  }
  const scope = record["scope"] === undefined ? undefined : readOneOf(record["scope"], RATE_LIMIT_SCOPES, fieldPath(path, "scope"), out);
  if (out.count > before || counter === undefined) return undefined;
  const limit: RateLimitSpec = { counter, window: window as string | number, max: max as number };
  if (scope !== undefined) limit.scope = scope;
  return limit;
}
