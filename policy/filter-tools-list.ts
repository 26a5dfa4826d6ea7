// The tools/list rule: a tool is removed when any enforcing policy hides it, denies it
// (`action: deny`), lets it fall to `default: deny`, or pins tool definitions (mode pin)
// and the tool's digest is not its pin (a tool without a pin included). Tools behind
// approval, limits, argument schemas or conditions stay listed: some calls to them can
// succeed. Audit policies, and pins in mode audit, never filter.

import type { DecisionTable } from "./decision-table.ts";
import { isRule, matchRule } from "./match-rule.ts";

/**
 * `digestOf`: each tool's definition digest, taken before anything in the listing was
 * changed (toolDefinitionDigest); needed only when a policy pins, and undefined is no
 * match for any pin.
 */
export function filterToolsList<T extends { readonly name: string }>(table: DecisionTable, tools: readonly T[], digestOf?: (tool: T) => string | undefined): T[] {
  if (table.enforcing.length === 0) return [...tools];
  return tools.filter((tool) => isListed(table, tool, digestOf));
}

function isListed<T extends { readonly name: string }>(table: DecisionTable, tool: T, digestOf: ((tool: T) => string | undefined) | undefined): boolean {
  const name: unknown = typeof tool === "object" && tool !== null ? tool.name : undefined;
  if (typeof name !== "string") return false;
  for (const policy of table.enforcing) {
    const match = matchRule(policy, name);
    if (!isRule(match) || match.action === "deny") return false;
    const definitions = policy.toolDefinitions;
    if (definitions?.mode === "pin") {
      const pinned = definitions.pins.get(name);
      if (pinned === undefined || digestOf?.(tool) !== pinned) return false;
    }
  }
  return true;
}
