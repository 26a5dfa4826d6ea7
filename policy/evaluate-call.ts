// The decision for one tools/call: synchronous, no I/O, no clock (`nowMs` only dates an
// approval's expiry). Rate limits are not admitted here: the evaluation lists the
// requests, and the caller admits them through a RateLimitStore (see admitCall).
//
// Combination (ARCHITECTURE.md): every enforcing policy decides on its own; a refusal from
// any one refuses the call (deny ranks above definition_changed, which ranks above
// invalid_arguments; among equals the first policy in namespace/name order names it);
// otherwise approval is needed if any policy asks for it (named by the first asking);
// otherwise the call is allowed, named by the first enforcing policy. Every enforcing
// policy's limits apply. Audit policies decide alone and never change the enforced
// decision; neither do pins of an enforcing policy in `toolDefinitions.mode: audit`,
// whose would-be definition_changed is reported after the audit policies' decisions.
//
// Within one policy: hide, then the rule's action (deny), then the tool's definition
// against its pin, then the server's inputSchema, then the rule's arguments schema, then
// `when`; approval and limits apply to what passes all of them.

import { celJsonValue } from "./cel-values.ts";
import type { ConditionBindings } from "./cel-condition.ts";
import { CONDITION_FALSE } from "./condition-outcome.ts";
import type { SchemaEngine } from "./policy-engines.ts";
import type { CompiledLimit, CompiledPolicy, CompiledRule, DecisionTable } from "./decision-table.ts";
import type { ApprovalRequest, AuditEvaluation, CallEvaluation, Decision, DecisionKind, PolicyRateLimitRequest, ToolCall } from "./decision.ts";
import { isRule, matchRule } from "./match-rule.ts";
import { rateLimitKey, type RateLimitScope } from "./ratelimit/types.ts";
import { definitionRefusal, serverSchemaRefusal } from "./tool-definition-check.ts";

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
  /** Compiles the listed tool's server schema (validateServerSchema). */
  readonly schemaEngine: SchemaEngine | undefined;
  #bindings: ConditionBindings | undefined;

  constructor(call: ToolCall, schemaEngine: SchemaEngine | undefined) {
    this.call = call;
    this.schemaEngine = schemaEngine;
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
  const context = new CallContext(call, table.engines.schemas);
  let refusal: Decision | undefined;
  let first: CompiledRule | undefined;
  let approval: CompiledRule | undefined;
  let approvalTimeoutMs = Number.POSITIVE_INFINITY;
  let limitSets: (readonly CompiledLimit[])[] | undefined;

  for (const policy of table.enforcing) {
    const outcome = decideForPolicy(policy, context, policy.toolDefinitions?.mode === "pin");
    if (!isRule(outcome)) {
      if (refusal === undefined || refusalRank(outcome.decision) > refusalRank(refusal.decision)) refusal = outcome;
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

  const audit = auditEvaluations(table, context);
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

/** Which refusal of several policies the call gets: the highest rank, then the first policy. */
function refusalRank(kind: DecisionKind): number {
  switch (kind) {
    case "deny":
      return 3;
    case "definition_changed":
      return 2;
    case "invalid_arguments":
      return 1;
    case "allow":
    case "rate_limited":
    case "approval_required":
      return 0;
    default:
      return kind satisfies never;
  }
}

/**
 * One policy's answer: a refusal, or the rule that lets the call through (allow or
 * approve). `checkPins`: its toolDefinitions pins refuse (mode pin, or any mode of an
 * audit policy, whose every answer is a would-be one).
 */
function decideForPolicy(policy: CompiledPolicy, context: CallContext, checkPins: boolean): Decision | CompiledRule {
  const tool = context.call.tool;
  if (typeof tool !== "string") {
    return { decision: "deny", policy: policy.ref, rule: "default", reason: "the tool name is not a string" };
  }
  const match = matchRule(policy, tool);
  if (!isRule(match)) return match;
  if (match.action === "deny") return match.decision;
  if (checkPins && policy.toolDefinitions !== undefined) {
    const changed = definitionRefusal(policy, policy.toolDefinitions, tool, context.call.listed);
    if (changed !== undefined) return changed;
  }
  if (policy.validateServerSchema) {
    const refused = serverSchemaRefusal(policy, context.call.listed, context.args, context.schemaEngine);
    if (refused !== undefined) return refused;
  }
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

/** Each audit policy's would-be decision, then each `toolDefinitions.mode: audit` pin of an enforcing policy that would refuse. */
function auditEvaluations(table: DecisionTable, context: CallContext): readonly AuditEvaluation[] {
  let audit: AuditEvaluation[] | undefined;
  for (const policy of table.audit) (audit ??= []).push(auditPolicy(policy, context));
  for (const policy of table.enforcing) {
    if (policy.toolDefinitions?.mode !== "audit" || typeof context.call.tool !== "string") continue;
    // Only where the policy would let the tool be called: a hidden or denied tool's definition does not matter.
    const match = matchRule(policy, context.call.tool);
    if (!isRule(match) || match.action === "deny") continue;
    const changed = definitionRefusal(policy, policy.toolDefinitions, context.call.tool, context.call.listed);
    if (changed !== undefined) (audit ??= []).push({ decision: changed, rateLimits: NO_REQUESTS });
  }
  return audit ?? NO_AUDIT;
}

function auditPolicy(policy: CompiledPolicy, context: CallContext): AuditEvaluation {
  const outcome = decideForPolicy(policy, context, policy.toolDefinitions !== undefined);
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
