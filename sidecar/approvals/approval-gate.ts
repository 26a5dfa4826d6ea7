// Holding a call for its approval (ARCHITECTURE.md "Approvals"). The call waits up to the
// hold (--approval-hold) for the verdict. When the hold runs out first, the agent is told
// the approval's name and the approval is remembered under (caller, tool, argument digest):
// the identical call made again within the approval's lifetime joins that approval instead
// of filing a new one, and an approved approval lets exactly one call through. Different
// arguments have a different digest and so need their own approval. Expiry is a deny.
// While a call is held, whoever holds it may be told it is still waiting (the proxy turns
// that into MCP progress notifications, which also keep the client's timeout alive).
// A held call whose client is gone (its signal aborts) stops waiting at once and ends as a
// hold that ran out: never let through (a call nobody waits for must not run, nor use the
// approval up), and remembered, so that the agent's identical retry joins the approval.

import type { ApprovalRequest, Decision } from "../../policy/index.ts";
import type { ApprovalOutcome } from "../observability/sidecar-metrics.ts";
import type { ApprovalDesk, ApprovalVerdict } from "./approval-desk.ts";
import { approvalPreview } from "./approval-preview.ts";

/** SidecarMetrics fits. */
export interface ApprovalMetrics {
  approvalRequested(): void;
  approvalFinished(tool: string, outcome: ApprovalOutcome, waitSeconds: number): void;
}

export interface ApprovalGateOptions {
  readonly desk: ApprovalDesk;
  /** How long a call is held before the agent is answered. Default 50 s. */
  readonly holdMs?: number;
  readonly now?: () => number;
  readonly metrics?: ApprovalMetrics;
  /** How often a held call's WaitingListener is told it still waits. Default 5 s. */
  readonly progressIntervalMs?: number;
}

/**
 * Told that a held call still waits for `approval`, pending `pendingMs` so far: once the
 * approval is filed (or joined), then every progressIntervalMs until the hold ends.
 * Returns false when nobody listens any more (the client left): it is not told again.
 */
export type WaitingListener = (approval: string, pendingMs: number) => boolean;

export interface HeldCall {
  readonly approval: ApprovalRequest;
  readonly tool: string;
  readonly arguments: unknown;
  readonly argumentDigest: string;
  readonly callerId: string;
}

const DEFAULT_APPROVAL_HOLD_MS = 50_000;
const DEFAULT_APPROVAL_PROGRESS_INTERVAL_MS = 5_000;

interface Remembered {
  readonly name: string;
  readonly requestedAtMs: number;
  readonly expiresAtMs: number;
}

export class ApprovalGate {
  readonly #desk: ApprovalDesk;
  readonly #holdMs: number;
  readonly #now: () => number;
  readonly #metrics: ApprovalMetrics | undefined;
  readonly #progressIntervalMs: number;
  /** Approvals whose hold ran out, by caller, tool and digest: the identical retry joins them. */
  readonly #outstanding = new Map<string, Remembered>();
  /** Approved approvals already used by a call, until they expire: each lets one call through. */
  readonly #used = new Map<string, number>();

  constructor(options: ApprovalGateOptions) {
    this.#desk = options.desk;
    this.#holdMs = options.holdMs ?? DEFAULT_APPROVAL_HOLD_MS;
    this.#now = options.now ?? Date.now;
    this.#metrics = options.metrics;
    this.#progressIntervalMs = options.progressIntervalMs ?? DEFAULT_APPROVAL_PROGRESS_INTERVAL_MS;
  }

  /**
   * `allow` when approved (the caller then admits the rate limits), else the refusal. Never
   * throws. `clientGone` aborts when nobody waits for the call's answer any more.
   */
  async hold(call: HeldCall, onWaiting?: WaitingListener, clientGone?: AbortSignal): Promise<Decision> {
    const { approval } = call;
    const refuse = (kind: "deny" | "approval_required", reason: string): Decision => ({ decision: kind, policy: approval.policy, rule: approval.rule, reason });
    const startedAt = this.#now();
    this.#forgetExpired(startedAt);
    const key = JSON.stringify([call.callerId, call.tool, call.argumentDigest]);
    const earlier = this.#outstanding.get(key);
    let name: string;
    let requestedAtMs = startedAt;
    let expiresAtMs: number;
    if (earlier !== undefined) {
      ({ name, requestedAtMs, expiresAtMs } = earlier);
    } else {
      expiresAtMs = approval.expiresAtMs;
      try {
        name = await this.#desk.file({
          policy: approval.policy,
          rule: approval.rule,
          tool: call.tool,
          argumentDigest: call.argumentDigest,
          preview: approvalPreview(call.arguments),
          callerId: call.callerId,
          requestedAtMs: startedAt,
          expiresAtMs,
        });
      } catch (error) {
        return refuse("deny", `the approval could not be requested (${error instanceof Error ? error.message : String(error)}); the call was not made`);
      }
    }

    this.#metrics?.approvalRequested();
    const finish = (outcome: ApprovalOutcome, decision: Decision): Decision => {
      this.#metrics?.approvalFinished(call.tool, outcome, Math.max(0, this.#now() - startedAt) / 1000);
      return decision;
    };
    const stopTelling = this.#keepTelling(onWaiting, name, requestedAtMs);
    const verdict = await this.#waitFor(name, Math.min(this.#holdMs, Math.max(0, expiresAtMs - startedAt) + 1_000), clientGone).finally(stopTelling);
    // A client gone as the verdict came is gone too: the verdict stays for its retry.
    if (verdict === undefined || clientGone?.aborted === true) {
      this.#outstanding.set(key, { name, requestedAtMs, expiresAtMs });
      const why = clientGone?.aborted === true ? `the client left while approval ${name} was pending, so the call was not made` : `approval ${name} is still pending after ${Math.round(this.#holdMs / 1000)} s`;
      const until = new Date(expiresAtMs).toISOString();
      return finish("timed_out", refuse("approval_required", `${why}; once a person approves it, the same call with the same arguments made again before ${until} runs once`));
    }
    this.#outstanding.delete(key);
    const by = verdict.decidedBy === undefined ? "" : ` by ${verdict.decidedBy}`;
    switch (verdict.phase) {
      case "Approved": {
        if (this.#now() >= expiresAtMs) return finish("expired", refuse("deny", `approval ${name} expired before it could be used; the call was not made`));
        if (this.#used.has(name)) return finish("denied", refuse("deny", `approval ${name} was already used by an identical call; each approval lets one call through`));
        this.#used.set(name, expiresAtMs);
        return finish("approved", { decision: "allow", policy: approval.policy, rule: approval.rule, reason: `approved${by} (approval ${name})` });
      }
      case "Denied":
        return finish("denied", refuse("deny", `approval ${name} was denied${by}${verdict.reason === undefined ? "" : `: ${verdict.reason}`}`));
      case "Expired":
        break;
      default:
        // A new phase is a compile error here; at run time anything else is expiry (a deny).
        verdict.phase satisfies never;
    }
    return finish("expired", refuse("deny", `approval ${name} expired without a decision${verdict.reason === undefined ? "" : ` (${verdict.reason})`}; expiry is a deny`));
  }

  /** Tells the listener now and every interval; the returned function stops it. */
  #keepTelling(listener: WaitingListener | undefined, name: string, requestedAtMs: number): () => void {
    if (listener === undefined) return noop;
    const tell = (): boolean => {
      try {
        return listener(name, Math.max(0, this.#now() - requestedAtMs));
      } catch {
        // A listener that throws is not told again; the hold goes on.
        return false;
      }
    };
    if (!tell()) return noop;
    const timer = setInterval(() => {
      if (!tell()) clearInterval(timer);
    }, this.#progressIntervalMs);
    return () => clearInterval(timer);
  }

  /** The verdict, or undefined after `ms` or once `clientGone` aborts. */
  async #waitFor(name: string, ms: number, clientGone: AbortSignal | undefined): Promise<ApprovalVerdict | undefined> {
    if (clientGone?.aborted === true) return undefined;
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    const timer = setTimeout(stop, ms);
    clientGone?.addEventListener("abort", stop, { once: true });
    try {
      return await this.#desk.verdict(name, controller.signal);
    } catch {
      // A desk that breaks its promise not to reject: fail closed, as an expiry.
      return { phase: "Expired", reason: "the approval's state could not be read" };
    } finally {
      clearTimeout(timer);
      clientGone?.removeEventListener("abort", stop);
    }
  }

  #forgetExpired(now: number): void {
    for (const [key, remembered] of this.#outstanding) if (remembered.expiresAtMs <= now) this.#outstanding.delete(key);
    for (const [name, expiresAtMs] of this.#used) if (expiresAtMs <= now) this.#used.delete(name);
  }
}

function noop(): void {}
