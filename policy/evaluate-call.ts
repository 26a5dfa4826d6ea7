// The decision for one tools/call: synchronous, no I/O, no clock (`nowMs` only dates an
// approval's expiry). Rate limits are not admitted here: the evaluation lists the
// requests, and the caller admits them through a RateLimitStore (see admitCall).
//
// Combination (ARCHITECTURE.md): every enforcing policy decides on its own; a deny from
// any one refuses the call (deny ranks above invalid_arguments, then the first policy in
// namespace/name order names it); otherwise approval is needed if any policy asks for it
// (named by the first asking); otherwise the call is allowed, named by the first
// enforcing policy. Every enforcing policy's limits apply. Audit policies decide alone
// and never change the enforced decision.

import { celJsonValue } from "./cel-values.ts";
import { CONDITION_FALSE, type ConditionBindings } from "./cel-condition.ts";
import type { CompiledLimit, CompiledPolicy, CompiledRule, DecisionTable } from "./decision-table.ts";
import type { ApprovalRequest, AuditEvaluation, CallEvaluation, Decision, PolicyRateLimitRequest, ToolCall } from "./decision.ts";
import { isRule, matchRule } from "./match-rule.ts";
import { rateLimitKey, type RateLimitScope } from "./ratelimit/types.ts";

const NO_REQUESTS: readonly PolicyRateLimitRequest[] = Object.freeze([]);
const NO_AUDIT: readonly AuditEvaluation[] = Object.freeze([]);
const NO_ARGUMENTS = Object.freeze({});
const NO_ENFORCING_POLICY: Decision = Object.freeze({
  decision: "allow",
  policy: "",
  rule: "",
  reason: "no enforcing policy applies",
});

/** Per-call state: the CEL bindings are built only if a condition needs them, once. */
class CallContext {
  readonly call: ToolCall;
  readonly args: unknown;
  #bindings: ConditionBindings | undefined;

  constructor(call: ToolCall) {
    this.call = call;
    this.args = call.arguments === undefined ? NO_ARGUMENTS : call.arguments;
  }

  get bindings(): ConditionBindings {
    this.#bindings ??= {
      tool: this.call.tool,
      args: celJsonValue(this.args),
      identity: celJsonValue({ id: this.call.identity.id, claims: this.call.identity.claims ?? {} }),
      session: celJsonValue({ id: this.call.session.id }),
    };
    return this.#bindings;
  }
}

export function evaluateCall(table: DecisionTable, call: ToolCall, nowMs: number): CallEvaluation {
  const context = new CallContext(call);
  let refusal: Decision | undefined;
  let first: CompiledRule | undefined;
  let approval: CompiledRule | undefined;
  let approvalTimeoutMs = Number.POSITIVE_INFINITY;
  let limitSets: (readonly CompiledLimit[])[] | undefined;

  for (const policy of table.enforcing) {
    const outcome = decideForPolicy(policy, context);
    if (!isRule(outcome)) {
      if (refusal === undefined || (outcome.decision === "deny" && refusal.decision !== "deny")) refusal = outcome;
      // Nothing outranks the first deny: the remaining policies cannot change the answer.
      if (outcome.decision === "deny") break;
      continue;
    }
    if (refusal !== undefined) continue;
    first ??= outcome;
    if (outcome.action === "approve") {
      approval ??= outcome;
      if (outcome.approvalTimeoutMs < approvalTimeoutMs) approvalTimeoutMs = outcome.approvalTimeoutMs;
    }
    if (outcome.limits.length > 0) (limitSets ??= []).push(outcome.limits);
  }

  const audit = table.audit.length === 0 ? NO_AUDIT : table.audit.map((policy) => auditPolicy(policy, context));
  if (refusal !== undefined) return { decision: refusal, rateLimits: NO_REQUESTS, audit };
  if (first === undefined) return { decision: NO_ENFORCING_POLICY, rateLimits: NO_REQUESTS, audit };
  const rateLimits = limitSets === undefined ? NO_REQUESTS : rateLimitRequests(limitSets, call);
  if (approval === undefined) return { decision: first.decision, rateLimits, audit };
  const request: ApprovalRequest = {
    policy: approval.decision.policy,
    rule: approval.rule,
    timeoutMs: approvalTimeoutMs,
    expiresAtMs: nowMs + approvalTimeoutMs,
  };
  return { decision: approval.decision, rateLimits, approval: request, audit };
}

/** One policy's answer: a refusal, or the rule that lets the call through (allow or approve). */
function decideForPolicy(policy: CompiledPolicy, context: CallContext): Decision | CompiledRule {
  const tool = context.call.tool;
  if (typeof tool !== "string") {
    return { decision: "deny", policy: policy.ref, rule: "default", reason: "the tool name is not a string" };
  }
  const match = matchRule(policy, tool);
  if (!isRule(match)) return match;
  if (match.action === "deny") return match.decision;
  if (match.arguments !== undefined) {
    const problem = match.arguments.check(context.args);
    if (problem !== undefined) {
      return { decision: "invalid_arguments", policy: policy.ref, rule: match.rule, reason: `invalid arguments: ${problem}` };
    }
  }
  if (match.condition !== undefined) {
    const problem = match.condition.evaluate(context.bindings);
    if (problem !== undefined) {
      const reason =
        problem === CONDITION_FALSE
          ? (match.reason ?? `condition not met: ${match.condition.source}`)
          : `${match.reason ?? "condition not met"} (${problem})`;
      return { decision: "deny", policy: policy.ref, rule: match.rule, reason };
    }
  }
  return match;
}

function auditPolicy(policy: CompiledPolicy, context: CallContext): AuditEvaluation {
  const outcome = decideForPolicy(policy, context);
  if (!isRule(outcome)) return { decision: outcome, rateLimits: NO_REQUESTS };
  const rateLimits = outcome.limits.length === 0 ? NO_REQUESTS : rateLimitRequests([outcome.limits], context.call);
  return { decision: outcome.decision, rateLimits };
}

/** One request per budget key: a counter shared by rules or policies is one budget, counted once. */
function rateLimitRequests(limitSets: readonly (readonly CompiledLimit[])[], call: ToolCall): PolicyRateLimitRequest[] {
  const requests: PolicyRateLimitRequest[] = [];
  for (const limits of limitSets) {
    for (const limit of limits) {
      const subject = scopeSubject(limit.scope, call);
      const key = rateLimitKey(limit.namespace, limit.counter, limit.scope, subject);
      if (requests.some((request) => request.key === key)) continue;
      requests.push({
        key,
        counter: limit.counter,
        windowMs: limit.windowMs,
        max: limit.max,
        scope: limit.scope,
        policy: limit.policy,
        rule: limit.rule,
      });
    }
  }
  return requests;
}

/** Whose budget a call spends: its caller's, its session's, or everyone's. */
function scopeSubject(scope: RateLimitScope, call: ToolCall): string {
  switch (scope) {
    case "grant":
      return call.identity.id;
    case "session":
      return call.session.id;
    case "global":
      return "";
    default:
      // A scope that slipped past the reader shares one budget: the strictest reading.
      scope satisfies never;
      return "";
  }
}
