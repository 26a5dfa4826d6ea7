// Approvals through the operator (ARCHITECTURE.md "Approvals"): an ask is `POST
// /v1/approvals` with the pod's token, which the operator files as an McpApproval in the
// pod's namespace; the verdict comes back as an `approval` event on the policy stream.
// The operator only ever sends a pod the verdicts on its own approvals, and this desk only
// listens for approvals it filed: a verdict for any other name is ignored.
//
// Fails closed: an ask the operator does not take is refused (the gate turns that into a
// deny), and an approval with no verdict by its expiry is expired here, whether or not the
// operator is reachable. The first verdict for an approval is the one that counts.

import { APPROVAL_VERDICTS, APPROVALS_PATH, type ApprovalFiledBody, type StreamErrorBody } from "../../protocol/index.ts";
import type { ReceivedApprovalEvent } from "../policy-source/operator-stream-source.ts";
import { askFields, awaitVerdict, unrefTimer, type ApprovalAsk, type ApprovalDesk, type ApprovalVerdict, type VerdictWaiter } from "./approval-desk.ts";

/** What the sidecar can say to the operator: OperatorStreamSource.post fits. */
export type OperatorPost = (path: string, body: unknown) => Promise<{ status: number; text: string }>;

export interface OperatorApprovalDeskOptions {
  readonly post: OperatorPost;
  readonly now?: () => number;
}

/** More asks than this in flight in one sidecar are refused (bounded memory, fail closed). */
const MAX_OPERATOR_APPROVALS = 1000;
/** How long a verdict is remembered after the approval expires (late retries get an answer). */
const REMEMBER_AFTER_EXPIRY_MS = 60_000;
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

interface Entry {
  readonly expiresAtMs: number;
  verdict: ApprovalVerdict | undefined;
  readonly waiters: Set<VerdictWaiter>;
  timer: NodeJS.Timeout | undefined;
}

export class OperatorApprovalDesk implements ApprovalDesk {
  readonly #post: OperatorPost;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: OperatorApprovalDeskOptions) {
    this.#post = options.post;
    this.#now = options.now ?? Date.now;
  }

  async file(ask: ApprovalAsk): Promise<string> {
    if (this.#entries.size >= MAX_OPERATOR_APPROVALS) throw new Error(`more than ${MAX_OPERATOR_APPROVALS} approvals are open in this sidecar`);
    let answer: { status: number; text: string };
    try {
      answer = await this.#post(APPROVALS_PATH, askFields(ask));
    } catch (error) {
      throw new Error(`the operator could not be reached: ${error instanceof Error ? error.message : String(error)}`);
    }
    const body = parse(answer.text);
    if (answer.status !== 201) {
      const why = typeof body?.error === "string" ? body.error : answer.text.trim().slice(0, 200) || "no message";
      throw new Error(`the operator answered HTTP ${answer.status}: ${why}`);
    }
    const name = body?.name;
    if (typeof name !== "string" || !NAME.test(name)) throw new Error("the operator's answer named no approval");
    const entry: Entry = { expiresAtMs: ask.expiresAtMs, verdict: undefined, waiters: new Set(), timer: undefined };
    this.#entries.set(name, entry);
    entry.timer = unrefTimer(() => this.#settle(name, { phase: "Expired", reason: "no decision before the approval expired" }), ask.expiresAtMs - this.#now());
    return name;
  }

  verdict(name: string, signal: AbortSignal): Promise<ApprovalVerdict | undefined> {
    const entry = this.#entries.get(name);
    if (entry === undefined) return Promise.resolve({ phase: "Expired", reason: "the approval is no longer known to this sidecar" });
    if (entry.verdict !== undefined) return Promise.resolve(entry.verdict);
    return awaitVerdict(entry.waiters, signal);
  }

  /** An `approval` event from the stream; false when it is not for an approval this desk filed. */
  receive(event: ReceivedApprovalEvent): boolean {
    const name = event.name;
    if (typeof name !== "string" || !this.#entries.has(name)) return false;
    const phase = phaseOf(event.verdict);
    const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value.slice(0, 1024) : undefined);
    const reason = text(event.reason);
    const decidedBy = text(event.decidedBy);
    this.#settle(name, { phase, ...(reason === undefined ? {} : { reason }), ...(decidedBy === undefined ? {} : { decidedBy }), decidedAtMs: this.#now() });
    return true;
  }

  /** The sidecar is stopping: waiting calls are told their approval expired. */
  close(): void {
    for (const [name, entry] of this.#entries) {
      clearTimeout(entry.timer);
      for (const waiter of [...entry.waiters]) waiter({ phase: "Expired", reason: "the sidecar is stopping" });
      this.#entries.delete(name);
    }
  }

  #settle(name: string, verdict: ApprovalVerdict): void {
    const entry = this.#entries.get(name);
    if (entry === undefined || entry.verdict !== undefined) return;
    entry.verdict = verdict;
    clearTimeout(entry.timer);
    entry.timer = unrefTimer(() => this.#entries.delete(name), Math.max(0, entry.expiresAtMs - this.#now()) + REMEMBER_AFTER_EXPIRY_MS);
    for (const waiter of [...entry.waiters]) waiter(verdict);
  }
}

/** A verdict the desk does not know is read as expiry: fail closed. */
function phaseOf(verdict: unknown): ApprovalVerdict["phase"] {
  const known = APPROVAL_VERDICTS.find((candidate) => candidate === verdict);
  switch (known) {
    case "approved":
      return "Approved";
    case "denied":
      return "Denied";
    case "expired":
    case undefined:
      return "Expired";
    default:
      return known satisfies never;
  }
}

/** The operator's answer, shaped like ApprovalFiledBody or StreamErrorBody but not checked yet. */
type ReceivedAnswer = { readonly [Field in keyof (ApprovalFiledBody & StreamErrorBody)]?: unknown };

function parse(text: string): ReceivedAnswer | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as ReceivedAnswer) : undefined;
  } catch {
    return undefined;
  }
}
