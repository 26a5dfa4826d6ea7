// Where a held call's approval is asked for and decided. The gate (approval-gate.ts) only
// sees this interface: the standalone sidecar keeps approvals in memory (LocalApprovalDesk,
// decided through the admin API); with the operator they become McpApproval objects.

import type { ApprovalPhase, ApprovalRequestBody } from "../../protocol/index.ts";

export type { ApprovalPhase };

/** What is asked: the McpApproval's spec, before a decision. */
export interface ApprovalAsk {
  readonly policy: string;
  readonly rule: string;
  readonly tool: string;
  /** SHA-256 hex of the RFC 8785 canonical arguments. */
  readonly argumentDigest: string;
  /** Redacted arguments (approval-preview.ts). */
  readonly preview: string;
  readonly callerId: string;
  readonly requestedAtMs: number;
  readonly expiresAtMs: number;
}

/**
 * What an ask says, as the McpApproval's spec names it (times as RFC 3339): the admin
 * API lists approvals in this shape and the operator is asked in it.
 */
export function askFields(ask: ApprovalAsk): ApprovalRequestBody {
  return {
    tool: ask.tool,
    caller: ask.callerId,
    policy: ask.policy,
    rule: ask.rule,
    argumentDigest: ask.argumentDigest,
    preview: ask.preview,
    requestedAt: new Date(ask.requestedAtMs).toISOString(),
    expiresAt: new Date(ask.expiresAtMs).toISOString(),
  };
}

export interface ApprovalVerdict {
  readonly phase: Exclude<ApprovalPhase, "Pending">;
  readonly reason?: string;
  readonly decidedBy?: string;
  readonly decidedAtMs?: number;
}

export interface ApprovalDesk {
  /** Files the ask; resolves to the approval's name. Rejects when it cannot be filed. */
  file(ask: ApprovalAsk): Promise<string>;
  /** Resolves with the verdict once there is one, or undefined when `signal` aborts first. Never rejects. */
  verdict(name: string, signal: AbortSignal): Promise<ApprovalVerdict | undefined>;
}

/** Someone waiting for a verdict; called with undefined when their signal aborts. */
export type VerdictWaiter = (verdict: ApprovalVerdict) => void;

/**
 * Waits in `waiters` until a desk calls every waiter with the verdict, or `signal` aborts
 * (undefined). The waiter removes itself either way, so nothing leaks.
 */
export function awaitVerdict(waiters: Set<VerdictWaiter>, signal: AbortSignal): Promise<ApprovalVerdict | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const done = (verdict: ApprovalVerdict | undefined): void => {
      waiters.delete(done);
      signal.removeEventListener("abort", aborted);
      resolve(verdict);
    };
    const aborted = (): void => done(undefined);
    waiters.add(done);
    signal.addEventListener("abort", aborted, { once: true });
  });
}

/** A timer that does not keep the process alive, clamped to what setTimeout can hold. */
export function unrefTimer(fn: () => void, ms: number): NodeJS.Timeout {
  const timer = setTimeout(fn, Math.min(Math.max(0, ms), 2_147_483_647));
  timer.unref();
  return timer;
}
