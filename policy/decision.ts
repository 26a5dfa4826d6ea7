// What evaluateCall is asked about and what it answers (ARCHITECTURE.md "Decisions and
// what the agent sees"). A Decision has exactly the shape of the refusal's
// `_meta["mcpwarden.dev/decision"]`.

import type { ArgumentSchemaResult } from "./argument-schema.ts";
import type { SchemaEngine } from "./policy-engines.ts";
import type { RateLimitRequest, RateLimitScope } from "./ratelimit/types.ts";

/**
 * definition_changed: a policy pins the tool's definition (spec.toolDefinitions, mode
 * pin) and the definition the server last listed is not the pinned one, has no pin, or
 * was never listed.
 */
export const DECISION_KINDS = ["allow", "deny", "rate_limited", "invalid_arguments", "approval_required", "definition_changed"] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];

export interface Decision {
  readonly decision: DecisionKind;
  /** "namespace/name" of the deciding policy; "" when no enforcing policy applies. */
  readonly policy: string;
  /** `tools["run_*"]`, `hide[0]`, `default`, `tools["x"].limits[0]`, `allTools.limits[0]`; "" with no policy. */
  readonly rule: string;
  /** Text for the agent (and the audit log). */
  readonly reason: string;
  /** Only on rate_limited. */
  readonly retryAfterSeconds?: number;
}

/** Who is calling, as the sidecar resolved it under the table's `identity`. */
export interface CallIdentity {
  /** The grant: JWT claim, header value, session id, or "" with source: none. */
  readonly id: string;
  /** JWT claims, visible to `when` as `identity.claims`. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

interface CallSession {
  /** The MCP session id ("" for a sessionless request). */
  readonly id: string;
}

/**
 * The tool as the upstream last listed it (any session, any page): what pins and the
 * server-schema check judge a call by. The sidecar keeps these; policy/ never fetches.
 */
export interface ListedTool {
  /** `sha256:<hex>` of the definition as the server listed it (toolDefinitionDigest). */
  readonly digest: string;
  /**
   * The listed inputSchema compiled by the table's schema engine (asked only when a policy
   * validates it; the engine is undefined when none was loaded, and the answer then says so).
   */
  inputSchema(engine: SchemaEngine | undefined): ArgumentSchemaResult;
}

export interface ToolCall {
  /** `params.name` of the tools/call request. */
  readonly tool: string;
  /** `params.arguments`; absent means `{}`. */
  readonly arguments?: unknown;
  readonly identity: CallIdentity;
  readonly session: CallSession;
  /** undefined: no listing from the upstream has named this tool (as far as the caller knows). */
  readonly listed?: ListedTool | undefined;
}

/** A RateLimitRequest that also says which policy and rule asked for it (stores ignore the extra fields). */
export interface PolicyRateLimitRequest extends RateLimitRequest {
  readonly scope: RateLimitScope;
  readonly policy: string;
  readonly rule: string;
}

export interface ApprovalRequest {
  readonly policy: string;
  readonly rule: string;
  /** The shortest timeout among the policies asking. */
  readonly timeoutMs: number;
  /** `now + timeoutMs`: when an unanswered approval becomes a deny. */
  readonly expiresAtMs: number;
}

/** An audit-mode policy's would-be decision: reported, never enforced. */
export interface AuditEvaluation {
  readonly decision: Decision;
  readonly rateLimits: readonly PolicyRateLimitRequest[];
}

export interface CallEvaluation {
  /** The decision of the enforcing policies, before rate limits are admitted. */
  readonly decision: Decision;
  /**
   * The limits the call must pass (every enforcing policy's, de-duplicated by key): to be
   * admitted before forwarding an `allow`, or after an `approval_required` call is
   * approved. Empty for every other decision: only calls every other rule allowed count.
   */
  readonly rateLimits: readonly PolicyRateLimitRequest[];
  /** Set when decision is approval_required. */
  readonly approval?: ApprovalRequest;
  /**
   * One entry per audit-mode policy, in namespace/name order; then, for each enforcing
   * policy whose `toolDefinitions.mode: audit` pin the call's tool does not match, its
   * would-be definition_changed.
   */
  readonly audit: readonly AuditEvaluation[];
}
