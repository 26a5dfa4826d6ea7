// metav1.LabelSelector semantics: matchLabels and matchExpressions are ANDed; an
// empty selector matches everything (as in NetworkPolicy and McpPolicy's `selector`).
import type { LabelSelector } from "../../policy/index.ts";

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

export function selectorMatches(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  // No selector at all selects nothing; the CRD requires one, so this is a policy read
  // from somewhere else.
  if (selector === undefined) return false;
  const own = labels ?? NO_LABELS;
  // for...in, not Object.entries: this runs for every pod of every reconcile, and must not allocate.
  const matchLabels = selector.matchLabels ?? NO_LABELS;
  for (const key in matchLabels) {
    if (!Object.hasOwn(matchLabels, key)) continue;
    if (!Object.hasOwn(own, key) || own[key] !== matchLabels[key]) return false;
  }
  for (const requirement of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(own, requirement.key);
    const value = has ? own[requirement.key] : undefined;
    const values = requirement.values ?? [];
    switch (requirement.operator) {
      case "In":
        if (!has || !values.includes(value as string)) return false;
        break;
      case "NotIn":
        if (has && values.includes(value as string)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        // An operator that slipped past validation selects nothing.
        requirement.operator satisfies never;
        return false;
    }
  }
  return true;
}

/** A Service's `spec.selector` (a plain map): empty or absent selects no pods. */
export function serviceSelects(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  const entries = Object.entries(selector ?? {});
  if (entries.length === 0) return false;
  const own = labels ?? {};
  return entries.every(([key, value]) => Object.hasOwn(own, key) && own[key] === value);
}

/** The same key for the same label set, whatever the order of its keys. */
export function labelSetKey(labels: Readonly<Record<string, string>> | undefined): string {
  return JSON.stringify(Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
