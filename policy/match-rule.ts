// Which rule of one policy governs a tool name: hide > exact name > most specific glob >
// default (ARCHITECTURE.md "Tool names match ..."). Shared by evaluateCall and
// filterToolsList so a listed tool and a called tool are judged alike.

import type { CompiledPolicy, CompiledRule } from "./decision-table.ts";
import type { Decision } from "./decision.ts";
import { matchesGlob, MAX_TOOL_NAME_LENGTH } from "./glob.ts";

/** A Decision when the name is hidden (or too long to match); otherwise the rule that applies. */
export function matchRule(policy: CompiledPolicy, name: string): Decision | CompiledRule {
  if (name.length > MAX_TOOL_NAME_LENGTH) return policy.overlongName;
  // firstMatch is -1 when nothing matches: no entry there.
  const hidden = policy.hide[policy.hideIndex.firstMatch(name)];
  if (hidden !== undefined) return hidden.decision;
  const exact = policy.exact.get(name);
  if (exact !== undefined) return exact;
  const glob = policy.globs[policy.globIndex.firstMatch(name)];
  if (glob !== undefined) return glob.rule;
  return policy.fallback;
}

/**
 * The same answer by trying every hide entry and glob in order: the definition matchRule's
 * indexes must agree with (the property tests compare them), and the benchmark's baseline.
 */
export function matchRuleByScan(policy: CompiledPolicy, name: string): Decision | CompiledRule {
  if (name.length > MAX_TOOL_NAME_LENGTH) return policy.overlongName;
  for (const entry of policy.hide) {
    if (entry.exact ? entry.glob.pattern === name : matchesGlob(entry.glob, name)) return entry.decision;
  }
  const exact = policy.exact.get(name);
  if (exact !== undefined) return exact;
  for (const { glob, rule } of policy.globs) if (matchesGlob(glob, name)) return rule;
  return policy.fallback;
}

export function isRule(match: Decision | CompiledRule): match is CompiledRule {
  return (match as CompiledRule).action !== undefined;
}
