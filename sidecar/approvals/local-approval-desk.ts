// The standalone sidecar's approvals: in memory, decided through the admin API. The same
// rules as the McpApproval webhooks where they apply without Kubernetes: one decision per
// approval, none after expiry (expiry is a deny), and the decider is who the admin API
// authenticated, never a name the client sends. Decided approvals are forgotten after a TTL.

import { randomBytes } from "node:crypto";
import { dnsLabelPrefix } from "../../policy/index.ts";
import { DECIDED_PHASE, type DecisionVerdict } from "../../protocol/index.ts";
import { awaitVerdict, unrefTimer, type ApprovalAsk, type ApprovalDesk, type ApprovalPhase, type ApprovalVerdict, type VerdictWaiter } from "./approval-desk.ts";

export interface LocalApproval extends ApprovalAsk {
  readonly name: string;
  readonly phase: ApprovalPhase;
  readonly verdict?: DecisionVerdict;
  readonly reason?: string;
  readonly decidedBy?: string;
  readonly decidedAtMs?: number;
}

export type DecideResult = { ok: true; approval: LocalApproval } | { ok: false; status: 404 | 409; message: string };

export interface LocalApprovalDeskOptions {
  /** How long a decided (or expired) approval stays listed. Default 1 h. */
  readonly decidedTtlMs?: number;
  readonly now?: () => number;
}

const DEFAULT_DECIDED_TTL_MS = 60 * 60_000;
/** A sidecar that is asked more than this at once refuses further asks (fail closed, bounded memory). */
const MAX_LOCAL_APPROVALS = 1000;

interface Entry {
  approval: LocalApproval;
  waiters: Set<VerdictWaiter>;
  timer: NodeJS.Timeout | undefined;
}

export class LocalApprovalDesk implements ApprovalDesk {
  readonly #entries = new Map<string, Entry>();
  readonly #decidedTtlMs: number;
  readonly #now: () => number;

  constructor(options: LocalApprovalDeskOptions = {}) {
    this.#decidedTtlMs = options.decidedTtlMs ?? DEFAULT_DECIDED_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  file(ask: ApprovalAsk): Promise<string> {
    if (this.#entries.size >= MAX_LOCAL_APPROVALS) return Promise.reject(new Error(`more than ${MAX_LOCAL_APPROVALS} approvals are open in this sidecar`));
    const name = approvalName(ask.tool);
    const entry: Entry = { approval: { ...ask, name, phase: "Pending" }, waiters: new Set(), timer: undefined };
    this.#entries.set(name, entry);
    entry.timer = unrefTimer(() => this.#expire(name), Math.max(0, ask.expiresAtMs - this.#now()));
    return Promise.resolve(name);
  }

  verdict(name: string, signal: AbortSignal): Promise<ApprovalVerdict | undefined> {
    const entry = this.#entries.get(name);
    if (entry === undefined) return Promise.resolve({ phase: "Expired", reason: "the approval is no longer known to this sidecar" });
    const settled = verdictOf(entry.approval);
    if (settled !== undefined) return Promise.resolve(settled);
    return awaitVerdict(entry.waiters, signal);
  }

  /** Every approval still known, oldest first. */
  list(): LocalApproval[] {
    this.#expireDue();
    return [...this.#entries.values()].map((entry) => entry.approval).sort((a, b) => a.requestedAtMs - b.requestedAtMs);
  }

  get(name: string): LocalApproval | undefined {
    this.#expireDue();
    return this.#entries.get(name)?.approval;
  }

  /** One decision per approval; `decidedBy` is who the caller of this method authenticated. */
  decide(name: string, verdict: DecisionVerdict, decidedBy: string, reason?: string): DecideResult {
    this.#expireDue();
    const entry = this.#entries.get(name);
    if (entry === undefined) return { ok: false, status: 404, message: `no approval named ${name}` };
    const current = entry.approval;
    if (current.phase === "Expired") return { ok: false, status: 409, message: `approval ${name} expired at ${new Date(current.expiresAtMs).toISOString()}; expiry is a deny` };
    if (current.phase !== "Pending") return { ok: false, status: 409, message: `approval ${name} was already decided (${current.phase} by ${current.decidedBy ?? "?"})` };
    const decidedAtMs = this.#now();
    this.#settle(entry, {
      ...current,
      phase: DECIDED_PHASE[verdict],
      verdict,
      decidedBy,
      decidedAtMs,
      ...(reason === undefined || reason === "" ? {} : { reason }),
    });
    return { ok: true, approval: entry.approval };
  }

  /** Stops the timers (the sidecar is stopping); waiting calls are told the approval expired. */
  close(): void {
    for (const [name, entry] of this.#entries) {
      clearTimeout(entry.timer);
      for (const waiter of [...entry.waiters]) waiter({ phase: "Expired", reason: "the sidecar is stopping" });
      this.#entries.delete(name);
    }
  }

  #expireDue(): void {
    const now = this.#now();
    for (const [name, entry] of this.#entries) if (entry.approval.phase === "Pending" && entry.approval.expiresAtMs <= now) this.#expire(name);
  }

  #expire(name: string): void {
    const entry = this.#entries.get(name);
    if (entry === undefined || entry.approval.phase !== "Pending") return;
    this.#settle(entry, { ...entry.approval, phase: "Expired", decidedAtMs: this.#now() });
  }

  #settle(entry: Entry, approval: LocalApproval): void {
    entry.approval = approval;
    clearTimeout(entry.timer);
    entry.timer = unrefTimer(() => this.#entries.delete(approval.name), this.#decidedTtlMs);
    const verdict = verdictOf(approval);
    if (verdict !== undefined) for (const waiter of [...entry.waiters]) waiter(verdict);
  }
}

function verdictOf(approval: LocalApproval): ApprovalVerdict | undefined {
  if (approval.phase === "Pending") return undefined;
  return {
    phase: approval.phase,
    ...(approval.reason === undefined ? {} : { reason: approval.reason }),
    ...(approval.decidedBy === undefined ? {} : { decidedBy: approval.decidedBy }),
    ...(approval.decidedAtMs === undefined ? {} : { decidedAtMs: approval.decidedAtMs }),
  };
}

/** `deploy-prod-3f9a1c2e`: the tool, as a DNS label, and 8 random hex digits. */
function approvalName(tool: string): string {
  return `${dnsLabelPrefix(tool, 40, "call")}-${randomBytes(4).toString("hex")}`;
}
