// spec.advertiseConstraints: the agent learns a tool's constraints from tools/list before
// it calls, not from a refusal. For each listed tool, every enforcing policy that opts in
// adds what its rule for the tool requires: the rule's `arguments` schema joins the
// server's inputSchema under `allOf`, and a sentence per rate limit ("At most 10 calls a
// minute.") and for an approval ("Calls wait for a person's approval.") is appended to the
// description. The result is what the agent sees; pins and the server-schema check keep
// using the definition as the server listed it.

import type { CompiledRule, DecisionTable } from "./decision-table.ts";
import { isRule, matchRule } from "./match-rule.ts";
import type { JsonSchema } from "./model.ts";

const APPROVAL_SENTENCE = "Calls wait for a person's approval.";

const WINDOW_WORDS: ReadonlyMap<number, string> = new Map([
  [1000, "a second"],
  [60_000, "a minute"],
  [3_600_000, "an hour"],
  [86_400_000, "a day"],
]);

/** "At most 10 calls a minute.", "At most 1 call in any 90 seconds." */
export function rateLimitSentence(max: number, windowMs: number): string {
  const calls = `${max} ${max === 1 ? "call" : "calls"}`;
  return `At most ${calls} ${WINDOW_WORDS.get(windowMs) ?? `in any ${describeSpan(windowMs)}`}.`;
}

function describeSpan(ms: number): string {
  const units: readonly [number, string][] = [
    [86_400_000, "day"],
    [3_600_000, "hour"],
    [60_000, "minute"],
    [1000, "second"],
  ];
  for (const [length, unit] of units) {
    if (ms % length === 0) return `${ms / length} ${unit}${ms === length ? "" : "s"}`;
  }
  return `${ms / 1000} seconds`;
}

/** The tool as the agent should see it; the same object when no policy adds anything. */
export function advertiseConstraints<T extends { readonly name: string }>(table: DecisionTable, tool: T): T {
  const schemas: JsonSchema[] = [];
  const sentences: string[] = [];
  for (const policy of table.enforcing) {
    if (!policy.advertiseConstraints) continue;
    const match = matchRule(policy, tool.name);
    if (!isRule(match) || match.action === "deny") continue;
    collect(match, schemas, sentences);
  }
  if (schemas.length === 0 && sentences.length === 0) return tool;
  const listed = tool as T & { readonly inputSchema?: unknown; readonly description?: unknown };
  const advertised: Record<string, unknown> = { ...listed };
  if (schemas.length > 0) {
    const server = listed.inputSchema === undefined ? [] : [listed.inputSchema];
    // MCP requires `type: "object"` at the root of an inputSchema (SDK clients check it).
    advertised["inputSchema"] = { type: "object", allOf: [...server, ...schemas] };
  }
  if (sentences.length > 0) {
    const description = typeof listed.description === "string" ? listed.description.trimEnd() : "";
    advertised["description"] = description === "" ? sentences.join(" ") : `${description} ${sentences.join(" ")}`;
  }
  return advertised as T;
}

function collect(rule: CompiledRule, schemas: JsonSchema[], sentences: string[]): void {
  const schema = rule.argumentsSchema;
  if (schema !== undefined && !schemas.some((known) => JSON.stringify(known) === JSON.stringify(schema))) schemas.push(schema);
  for (const limit of rule.limits) {
    const sentence = rateLimitSentence(limit.max, limit.windowMs);
    if (!sentences.includes(sentence)) sentences.push(sentence);
  }
  if (rule.action === "approve" && !sentences.includes(APPROVAL_SENTENCE)) sentences.push(APPROVAL_SENTENCE);
}
