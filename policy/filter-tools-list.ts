// The tools/list rule: a tool is removed when any enforcing policy hides it, denies it
// (`action: deny`) or lets it fall to `default: deny`. Tools behind approval, limits,
// argument schemas or conditions stay listed: some calls to them can succeed. Audit
// policies never filter.

import type { DecisionTable } from "./decision-table.ts";
import { isRule, matchRule } from "./match-rule.ts";

export function filterToolsList<T extends { readonly name: string }>(table: DecisionTable, tools: readonly T[]): T[] {
  if (table.enforcing.length === 0) return [...tools];
  return tools.filter((tool) => isListed(table, tool));
}

function isListed(table: DecisionTable, tool: { readonly name: string }): boolean {
  const name: unknown = typeof tool === "object" && tool !== null ? tool.name : undefined;
  if (typeof name !== "string") return false;
  for (const policy of table.enforcing) {
    const match = matchRule(policy, name);
    if (!isRule(match) || match.action === "deny") return false;
  }
  return true;
}
