// Counters are one budget per namespace (the rate-limit key is namespace, counter,
// scope and caller), so every use of a counter name in a namespace needs the same
// window, max and scope — across policies too, even ones that select different pods.
// The older policy keeps the counter; the newer is not accepted.
import { policyRef, type McpPolicy, type RateLimitSpec } from "../../policy/index.ts";
import { describeMs, parseWindow } from "../../policy/duration.ts";

interface CounterUse {
  windowMs: number;
  max: number;
  scope: string;
  policy: string;
  path: string;
}

/** For each policy that reuses an older policy's counter differently: the first such problem. */
export function counterConflicts(oldestFirst: readonly McpPolicy[]): Map<string, string> {
  const uses = new Map<string, CounterUse>();
  const conflicts = new Map<string, string>();
  for (const policy of oldestFirst) {
    const ref = policyRef(policy);
    const mine: [string, CounterUse][] = [];
    let conflict: string | undefined;
    for (const { limit, path } of limitsOf(policy)) {
      const window = parseWindow(limit.window);
      if (!window.ok) continue; // reported by the policy's own validation
      const use: CounterUse = { windowMs: window.ms, max: limit.max, scope: limit.scope ?? "grant", policy: ref, path };
      const seen = uses.get(limit.counter);
      if (seen !== undefined && seen.policy !== ref && (seen.windowMs !== use.windowMs || seen.max !== use.max || seen.scope !== use.scope)) {
        conflict ??=
          `${path}: counter ${JSON.stringify(limit.counter)} is already used by the older policy ${seen.policy} at ${seen.path} ` +
          `with window ${describeMs(seen.windowMs)}, max ${seen.max}, scope ${seen.scope}; a counter is one budget in the namespace, ` +
          `so every use needs the same window, max and scope (or use another counter name)`;
      }
      mine.push([limit.counter, use]);
    }
    if (conflict !== undefined) {
      conflicts.set(ref, conflict);
      continue; // a rejected policy claims no counters
    }
    for (const [counter, use] of mine) if (!uses.has(counter)) uses.set(counter, use);
  }
  return conflicts;
}

function* limitsOf(policy: McpPolicy): Generator<{ limit: RateLimitSpec; path: string }> {
  const all = policy.spec.allTools?.limits ?? [];
  for (const [index, limit] of all.entries()) yield { limit, path: `spec.allTools.limits[${index}]` };
  for (const [tool, rule] of Object.entries(policy.spec.tools ?? {})) {
    for (const [index, limit] of (rule.limits ?? []).entries()) yield { limit, path: `spec.tools[${JSON.stringify(tool)}].limits[${index}]` };
  }
}

/** Oldest first by creationTimestamp, then namespace/name (as compilePolicies orders them). */
export function compareAge(a: McpPolicy, b: McpPolicy): number {
  const time = (policy: McpPolicy): number => {
    const parsed = Date.parse(policy.metadata.creationTimestamp ?? "");
    return Number.isNaN(parsed) ? Number.POSITIVE_INFINITY : parsed;
  };
  const difference = time(a) - time(b);
  if (difference !== 0 && !Number.isNaN(difference)) return difference < 0 ? -1 : 1;
  const left = policyRef(a);
  const right = policyRef(b);
  return left < right ? -1 : left > right ? 1 : 0;
}
