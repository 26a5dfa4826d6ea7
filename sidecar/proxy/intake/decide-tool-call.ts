// The decision point: one tools/call, decided with policy/ and recorded. Everything that
// can go wrong here refuses the call (fail closed); nothing throws to the caller.

import {
  admitCall,
  admitRateLimits,
  evaluateCall,
  type CallEvaluation,
  type CallIdentity,
  type Decision,
  type DecisionTable,
  type RateLimitAdmitter,
  type ToolCall,
} from "../../../policy/index.ts";
import type { DecisionObserver, DecisionRecord, RequestTrace } from "../../contracts.ts";
// One digest for audit lines, decision records and approvals (a library JCS).
import { argumentDigest } from "../../observability/argument-digest.ts";
import type { ApprovalGate } from "../../approvals/approval-gate.ts";
import type { JsonRpcId } from "../../jsonrpc/message.ts";
import { holdForApproval } from "./approval-hold.ts";
import { approvalProgress, type ClientNotifier } from "./approval-progress.ts";
import type { ToolCatalog } from "../replies/tool-catalog.ts";
import type { ProxyLogger } from "../options.ts";

export interface ToolCallContext {
  /** undefined: no policy loaded yet. */
  readonly table: DecisionTable | undefined;
  readonly identity: CallIdentity;
  readonly sessionId: string;
  /** The client's stream while the request is decided; undefined: it cannot be told anything yet. */
  readonly notifier?: ClientNotifier | undefined;
  /** Aborts when the client can no longer get the answer (it left): a held call is then not made. */
  readonly clientGone?: AbortSignal | undefined;
  /** The POST's span, told the enforced decision; undefined: not traced. */
  readonly trace?: RequestTrace | undefined;
}

export interface ToolCallDeps {
  readonly limiter: RateLimitAdmitter;
  readonly observer: DecisionObserver;
  readonly now: () => number;
  /** The tools the upstream listed: a call is judged by its tool as last listed. */
  readonly catalog: ToolCatalog;
  readonly logArguments: boolean;
  readonly logger: ProxyLogger;
  /** Where calls that need approval wait; undefined: they are refused. */
  readonly approvals?: ApprovalGate | undefined;
}

const NOT_READY_REASON = "the sidecar has no policy loaded yet, and refuses every tool call until it has one";

/** The enforced decision: forward only when it is `allow`. `progressToken`: the call's, if it has one. */
export async function decideToolCall(tool: string, args: unknown, context: ToolCallContext, deps: ToolCallDeps, progressToken?: JsonRpcId): Promise<Decision> {
  const call: ToolCall = { tool, arguments: args, identity: context.identity, session: { id: context.sessionId }, listed: deps.catalog.get(tool) };
  const digest = argumentDigest(args);
  const record = (decision: Decision, mode: "enforce" | "audit", evaluation?: CallEvaluation): void => {
    const entry: DecisionRecord = {
      tool,
      decision,
      mode,
      callerId: context.identity.id,
      argumentDigest: digest,
      ...(deps.logArguments ? { arguments: args ?? {} } : {}),
      ...rateLimitCounter(decision, evaluation),
    };
    try {
      if (mode === "enforce") context.trace?.decided(tool, decision);
      deps.observer.onDecision(entry);
    } catch (error) {
      deps.logger.error({ err: error, tool }, "decision observer failed");
    }
  };

  const table = context.table;
  if (table === undefined) {
    const decision: Decision = { decision: "deny", policy: "", rule: "", reason: NOT_READY_REASON };
    record(decision, "enforce");
    return decision;
  }
  if (table.enforcing.length > 0) {
    const twin = deps.catalog.caseTwin(tool);
    if (twin !== undefined) {
      const decision: Decision = {
        decision: "deny",
        policy: table.enforcing[0]?.ref ?? "",
        rule: "",
        reason: `${JSON.stringify(tool)} is not a tool the server lists; it differs from the listed tool ${JSON.stringify(twin)} only in case`,
      };
      record(decision, "enforce");
      return decision;
    }
  }
  let evaluation: CallEvaluation;
  let decision: Decision;
  let audit: readonly Decision[];
  try {
    evaluation = evaluateCall(table, call, deps.now());
    const admitted = await admitCall(evaluation, deps.limiter, deps.now());
    decision = admitted.decision;
    audit = admitted.audit;
    if (decision.decision === "approval_required") {
      const notifier = context.notifier;
      const waiting = progressToken === undefined || notifier === undefined ? undefined : approvalProgress(progressToken, notifier);
      const held = await holdForApproval(evaluation, call, digest, deps.approvals, waiting, context.clientGone);
      decision = held.decision === "allow" ? await admitRateLimits(evaluation.rateLimits, deps.limiter, deps.now(), held) : held;
    }
  } catch (error) {
    deps.logger.error({ err: error, tool }, "the decision failed; the call is refused");
    decision = { decision: "deny", policy: "", rule: "", reason: "the sidecar could not decide this call (an internal error); it was refused" };
    record(decision, "enforce");
    return decision;
  }
  record(decision, "enforce", evaluation);
  audit.forEach((entry, index) => record(entry, "audit", auditEvaluation(evaluation, index)));
  return decision;
}

function auditEvaluation(evaluation: CallEvaluation, index: number): CallEvaluation | undefined {
  const entry = evaluation.audit[index];
  return entry === undefined ? undefined : { decision: entry.decision, rateLimits: entry.rateLimits, audit: [] };
}

/** The counter behind a rate_limited decision: the limit its policy and rule name. */
function rateLimitCounter(decision: Decision, evaluation: CallEvaluation | undefined): { rateLimitCounter?: string } {
  if (decision.decision !== "rate_limited" || evaluation === undefined) return {};
  const request = evaluation.rateLimits.find((limit) => limit.policy === decision.policy && limit.rule === decision.rule);
  return request === undefined ? {} : { rateLimitCounter: request.counter };
}
