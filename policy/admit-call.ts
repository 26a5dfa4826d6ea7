// Turning an evaluation into the final decision once its rate limits have been admitted
// through a store. Async only because stores are; the logic is pure.

import type { AuditEvaluation, CallEvaluation, Decision, PolicyRateLimitRequest } from "./decision.ts";
import { describeMs } from "./duration.ts";
import type { AdmitResult, RateLimitRequest } from "./ratelimit/types.ts";

/** A RateLimitStore, or the SlidingWindowLimiter wrapping one. */
export interface RateLimitAdmitter {
  admit(requests: readonly RateLimitRequest[], nowMs: number): Promise<AdmitResult>;
}

export type AdmitRefusal = Extract<AdmitResult, { admitted: false }>;

export interface AdmittedCall {
  /** The enforced decision: `rate_limited` when an allowed call's limits had no room. */
  readonly decision: Decision;
  /** Each audit policy's would-be decision, rate limits included. */
  readonly audit: readonly Decision[];
}

/**
 * Admits an allowed call's limits (all-or-nothing) and each audit policy's. An
 * approval_required call's limits are not admitted here: admit them with
 * `admitRateLimits` once the call is approved. A budget an audit policy shares with an
 * enforcing one is one budget: it is admitted once, with the enforcing limits, and its
 * outcome stands for both.
 */
export async function admitCall(evaluation: CallEvaluation, admitter: RateLimitAdmitter, nowMs: number): Promise<AdmittedCall> {
  let decision = evaluation.decision;
  let enforcedRefusal: AdmitRefusal | undefined;
  const enforcedKeys = new Set<string>();
  if (decision.decision === "allow" && evaluation.rateLimits.length > 0) {
    const result = await admitter.admit(evaluation.rateLimits, nowMs);
    for (const request of evaluation.rateLimits) enforcedKeys.add(request.key);
    if (!result.admitted) {
      enforcedRefusal = result;
      decision = rateLimitedDecision(evaluation.rateLimits, result);
    }
  }
  const audit: Decision[] = [];
  for (const entry of evaluation.audit) audit.push(await admitAudit(entry, admitter, nowMs, enforcedKeys, enforcedRefusal));
  return { decision, audit };
}

async function admitAudit(
  entry: AuditEvaluation,
  admitter: RateLimitAdmitter,
  nowMs: number,
  enforcedKeys: ReadonlySet<string>,
  enforcedRefusal: AdmitRefusal | undefined,
): Promise<Decision> {
  if (entry.decision.decision !== "allow" || entry.rateLimits.length === 0) return entry.decision;
  if (enforcedRefusal !== undefined) {
    const shared = entry.rateLimits.find((request) => enforcedKeys.has(request.key) && request.counter === enforcedRefusal.counter);
    if (shared !== undefined) return rateLimitedDecision([shared], enforcedRefusal);
  }
  const own = entry.rateLimits.filter((request) => !enforcedKeys.has(request.key));
  if (own.length === 0) return entry.decision;
  const result = await admitter.admit(own, nowMs);
  return result.admitted ? entry.decision : rateLimitedDecision(own, result);
}

/** For an approved call: admits its limits and returns `allowed` or the rate_limited decision. */
export async function admitRateLimits(
  requests: readonly PolicyRateLimitRequest[],
  admitter: RateLimitAdmitter,
  nowMs: number,
  allowed: Decision,
): Promise<Decision> {
  if (requests.length === 0) return allowed;
  const result = await admitter.admit(requests, nowMs);
  return result.admitted ? allowed : rateLimitedDecision(requests, result);
}

/** The rate_limited decision for a refusal, named after the limit (policy and rule) that refused. */
export function rateLimitedDecision(requests: readonly PolicyRateLimitRequest[], refusal: AdmitRefusal): Decision {
  const request = requests.find((candidate) => candidate.counter === refusal.counter) ?? requests[0];
  const retry = refusal.retryAfterSeconds;
  // The retry time is a field of its own (retryAfterSeconds): the refusal's text states it once.
  // What an invalid request says, and a cause this version does not know:
  let reason = `rate limit ${refusal.counter} could not be applied`;
  switch (refusal.cause) {
    case "window_full":
      reason =
        request === undefined
          ? "rate limit reached"
          : `rate limit ${request.counter} reached: at most ${request.max} calls per ${describeMs(request.windowMs)} per ${request.scope}`;
      break;
    case "capacity":
      reason = "the rate-limit store is full";
      break;
    case "store_unavailable":
      reason = "the rate-limit store is unavailable";
      break;
    case "invalid_request":
      break;
    default:
      refusal.cause satisfies never;
  }
  return {
    decision: "rate_limited",
    policy: request?.policy ?? "",
    rule: request?.rule ?? "",
    reason,
    retryAfterSeconds: retry,
  };
}
