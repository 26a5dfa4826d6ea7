// The two checks that judge a call by the tool as the server last listed it
// (ToolCall.listed): its definition against a pin (spec.toolDefinitions) and its
// arguments against the server's own inputSchema (spec.validateServerSchema). Both fail
// closed: a tool no listing has named cannot be checked, so the call is refused.

import type { CompiledPolicy, CompiledToolDefinitions, DecisionTable } from "./decision-table.ts";
import type { Decision, ListedTool } from "./decision.ts";
import type { SchemaEngine } from "./policy-engines.ts";
import { isRule, matchRule } from "./match-rule.ts";
import { entryPath } from "./problems.ts";

/** A policy for which a listed definition is not the approved one. */
export interface UnpinnedDefinition {
  readonly policy: string;
  /** The pinned digest; undefined when the tool has no pin. */
  readonly pinned: string | undefined;
  /** pin: calls are refused; audit: only reported (an audit policy's pins are always this). */
  readonly mode: "pin" | "audit";
}

/**
 * Every policy (enforcing or audit) with toolDefinitions in mode pin or audit whose pin
 * for `tool` is not `digest`, among those that let the tool be called at all (a hidden
 * or denied tool's definition does not matter to them). What the sidecar counts and
 * logs when a listing shows a new definition.
 */
export function unpinnedDefinitions(table: DecisionTable, tool: string, digest: string): UnpinnedDefinition[] {
  const found: UnpinnedDefinition[] = [];
  for (const policy of [...table.enforcing, ...table.audit]) {
    const definitions = policy.toolDefinitions;
    if (definitions === undefined) continue;
    const match = matchRule(policy, tool);
    if (!isRule(match) || match.action === "deny") continue;
    const pinned = definitions.pins.get(tool);
    if (pinned === digest) continue;
    found.push({ policy: policy.ref, pinned, mode: policy.mode === "audit" ? "audit" : definitions.mode });
  }
  return found;
}

/** The definition_changed decision when the listed definition is not the pinned one, else undefined. */
export function definitionRefusal(policy: CompiledPolicy, definitions: CompiledToolDefinitions, tool: string, listed: ListedTool | undefined): Decision | undefined {
  const pinned = definitions.pins.get(tool);
  if (listed !== undefined && listed.digest === pinned) return undefined;
  const name = JSON.stringify(tool);
  const rule = pinned === undefined ? "toolDefinitions" : entryPath("toolDefinitions.pins", tool);
  let reason: string;
  if (listed === undefined) {
    reason =
      pinned === undefined
        ? `tool ${name} has no pin, and no tools/list from the server has listed it`
        : `tool ${name} is pinned to ${pinned}, but no tools/list from the server has listed it, so its definition cannot be checked`;
  } else {
    reason =
      pinned === undefined
        ? `tool ${name}: the server lists definition ${listed.digest}, which has no pin`
        : `tool ${name}: the server lists definition ${listed.digest}, pinned ${pinned}`;
  }
  return { decision: "definition_changed", policy: policy.ref, rule, reason };
}

const SERVER_SCHEMA_RULE = "validateServerSchema";

/** A refusal when the arguments do not satisfy the server's inputSchema, or it cannot be checked. */
export function serverSchemaRefusal(policy: CompiledPolicy, listed: ListedTool | undefined, args: unknown, engine: SchemaEngine | undefined): Decision | undefined {
  if (listed === undefined) {
    return {
      decision: "deny",
      policy: policy.ref,
      rule: SERVER_SCHEMA_RULE,
      reason: "the server's inputSchema for this tool is not known: no tools/list from the server has listed it (list the tools first)",
    };
  }
  const schema = listed.inputSchema(engine);
  if (!schema.ok) return { decision: "deny", policy: policy.ref, rule: SERVER_SCHEMA_RULE, reason: `the server's inputSchema for this tool cannot be checked: ${schema.message}` };
  const problem = schema.schema.check(args);
  if (problem === undefined) return undefined;
  return { decision: "invalid_arguments", policy: policy.ref, rule: SERVER_SCHEMA_RULE, reason: `invalid arguments (the server's inputSchema): ${problem}` };
}
