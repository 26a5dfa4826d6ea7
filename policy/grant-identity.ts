// "Per grant" made plain. A grant is the caller as the pod's identity source names it;
// with no identity source every caller is one grant (docs/architecture.md) — safe, since
// a client cannot get a fresh budget by opening another MCP session, but per-grant limits
// are then one budget that every caller shares, which readers of "per caller" do not
// expect. `policy validate`, `policy import`, the operator's Accepted condition and
// `kubectl mcpwarden analyze` all say so with this text.

import type { IdentitySpec, McpPolicy, RateLimitSpec } from "./model.ts";
import { entryPath, indexPath } from "./problems.ts";

const LISTED = 3;

/** The policy's grant-scoped limits (the default scope), as `tools["x"].limits[0]` or `allTools.limits[0]`. */
export function grantScopedLimits(policy: McpPolicy): string[] {
  const grant = (limits: readonly RateLimitSpec[] | undefined, base: string): string[] =>
    (limits ?? []).flatMap((limit, index) => ((limit.scope ?? "grant") === "grant" ? [indexPath(`${base}.limits`, index)] : []));
  const tools = Object.entries(policy.spec.tools ?? {}).flatMap(([name, rule]) => grant(rule.limits, entryPath("tools", name)));
  return [...tools, ...grant(policy.spec.allTools?.limits, "allTools")];
}

/**
 * Why this policy's per-grant limits are one shared budget under `identity` (the identity
 * its pods resolve callers by), or undefined when they are not.
 */
export function sharedGrantBudget(policy: McpPolicy, identity: IdentitySpec): string | undefined {
  if (identity.source !== "none") return undefined;
  const limits = grantScopedLimits(policy);
  if (limits.length === 0) return undefined;
  const listed = limits.slice(0, LISTED).join(", ") + (limits.length > LISTED ? ` and ${limits.length - LISTED} more` : "");
  return (
    `per-grant limits (${listed}) have no identity source, so every caller is one grant and all callers share one budget; ` +
    `name the caller with spec.identity (source: header, jwt or session) for a budget per caller, or write scope: global to say the budget is shared`
  );
}

/** What `policy import` says about PolicyLayer's per-agent limits. */
export const PER_AGENT_BUDGETS_NOTE =
  "PolicyLayer tracks limits per agent session; here a limit is per grant, and this policy names no identity, so every caller shares one budget. " +
  "For a budget per agent add spec.identity — {source: header, header: x-agent-id} behind a gateway that sets the header, " +
  "{source: jwt, ...} for signed tokens, or {source: session} for one budget per MCP session";
