// The operator's side of held calls (ARCHITECTURE.md "Approvals"):
// - files a sidecar's ask as an McpApproval in its pod's namespace (`POST /v1/approvals`);
// - watches McpApprovals and pushes each verdict (approved, denied, expired) on the
//   streams of the pod that asked, and only that pod's; a sidecar that reconnects is sent
//   the verdicts of its approvals again (it ignores ones it has);
// - as the leader: writes status (phase, decidedBy copied from spec.decision.decidedBy —
//   set by the mutating webhook from the API server's userInfo — and decidedAt), marks an
//   undecided approval Expired when it expires, and deletes decided and expired ones
//   after the TTL.
//
// Every replica pushes to the streams it serves; only the leader writes. Expiry needs no
// write to be pushed: each replica's timer sends `expired` at expiresAt. A decision is
// final once made, and a final status phase is never changed: an approval whose status
// says Expired stays expired even if a decision shows up late.

import type { ClusterClient, WatchedStore } from "../cluster.ts";
import { keyOf, splitKey, type McpApprovalObject, type McpApprovalPhase, type McpApprovalStatus } from "../kube-objects.ts";
import type { LeaderState } from "../leader/lease-leader-election.ts";
import { errorText, type OperatorLogger } from "../operator-logger.ts";
import { DECIDED_PHASE, type ApprovalEvent, type ApprovalFiledBody, type ApprovalVerdictName, type StreamErrorBody } from "../../protocol/index.ts";
import type { BoundPod } from "../stream/stream-authenticator.ts";
import { APPROVAL_POD_UID_LABEL, approvalObjectFor, readApprovalAsk } from "./approval-request.ts";

export interface ApprovalControllerOptions {
  approvals: WatchedStore<McpApprovalObject>;
  client: ClusterClient;
  leader: LeaderState;
  /** Sends an `approval` event on the pod's streams served by this replica. */
  push: (podUid: string, event: ApprovalEvent) => void;
  /** How long decided and expired approvals are kept. Default 1 h. */
  decidedTtlMs?: number;
  /** At most this many undecided approvals per pod; more asks get 429. Default 100. */
  maxPendingPerPod?: number;
  now?: () => number;
  logger: OperatorLogger;
}

export interface FileResult {
  status: number;
  body: ApprovalFiledBody | StreamErrorBody;
}

const DEFAULT_APPROVAL_TTL_MS = 60 * 60_000;
const DEFAULT_MAX_PENDING_PER_POD = 100;
/** Retry of a failed status write or delete. */
const RETRY_MS = 2_000;

type FinalPhase = Exclude<McpApprovalPhase, "Pending">;

interface Tracked {
  /** The verdict pushed from this replica, so a status update does not push it again. */
  pushed?: FinalPhase;
  /** Fires at expiresAt (push `expired`, the leader writes it) or at the TTL (the leader deletes). */
  timer?: NodeJS.Timeout;
}

export class ApprovalController {
  readonly #options: ApprovalControllerOptions;
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #tracked = new Map<string, Tracked>();
  #stopped = false;

  constructor(options: ApprovalControllerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.decidedTtlMs ?? DEFAULT_APPROVAL_TTL_MS;
    options.approvals.onChange((approval, kind) => {
      if (kind === "delete") this.#forget(keyOf(approval));
      else this.#observe(approval);
    });
  }

  /** Looks at every approval again: after the first list and when this replica becomes the leader. */
  resyncAll(): void {
    for (const approval of this.#options.approvals.list()) this.#observe(approval);
  }

  stop(): void {
    this.#stopped = true;
    for (const tracked of this.#tracked.values()) clearTimeout(tracked.timer);
    this.#tracked.clear();
  }

  /** The verdicts of this pod's approvals (they live in its namespace), for a stream that has just connected. */
  eventsFor(pod: BoundPod): ApprovalEvent[] {
    const events: ApprovalEvent[] = [];
    for (const approval of this.#options.approvals.list(pod.namespace)) {
      if (approval.metadata?.labels?.[APPROVAL_POD_UID_LABEL] !== pod.uid) continue;
      const verdict = verdictOf(approval, this.#now());
      if (verdict !== undefined) events.push(eventOf(approval, verdict));
    }
    return events;
  }

  /** `POST /v1/approvals` from the sidecar of `pod`. */
  async file(pod: BoundPod, body: unknown): Promise<FileResult> {
    const read = readApprovalAsk(body, this.#now());
    if (!read.ok) return { status: 400, body: { error: read.message } };
    const max = this.#options.maxPendingPerPod ?? DEFAULT_MAX_PENDING_PER_POD;
    const pending = this.#options.approvals
      .list(pod.namespace)
      .filter((approval) => approval.metadata?.labels?.[APPROVAL_POD_UID_LABEL] === pod.uid && verdictOf(approval, this.#now()) === undefined).length;
    if (pending >= max) return { status: 429, body: { error: `pod ${pod.namespace}/${pod.name} already has ${pending} undecided approvals` } };
    const created = await this.#options.client.createApproval(approvalObjectFor(pod, read.ask));
    const name = created.metadata?.name ?? "";
    this.#options.logger.info({ approval: `${pod.namespace}/${name}`, tool: read.ask.tool, policy: read.ask.policy, expiresAt: read.ask.expiresAt }, "approval requested");
    return { status: 201, body: { name, namespace: pod.namespace } };
  }

  #observe(approval: McpApprovalObject): void {
    if (this.#stopped) return;
    const key = keyOf(approval);
    const tracked = this.#tracked.get(key) ?? {};
    this.#tracked.set(key, tracked);
    clearTimeout(tracked.timer);
    tracked.timer = undefined;
    const now = this.#now();
    const verdict = verdictOf(approval, now);
    if (verdict === undefined) {
      if (this.#options.leader.isLeader && approval.status?.phase !== "Pending") this.#writeStatus(approval, { phase: "Pending" });
      const expiresAtMs = Date.parse(approval.spec?.expiresAt ?? "");
      if (Number.isFinite(expiresAtMs)) tracked.timer = this.#timer(() => this.#observeAgain(key), expiresAtMs - now);
      return;
    }
    const podUid = approval.metadata?.labels?.[APPROVAL_POD_UID_LABEL];
    if (tracked.pushed === undefined && podUid !== undefined) {
      tracked.pushed = verdict.phase;
      this.#options.push(podUid, eventOf(approval, verdict));
    }
    if (!this.#options.leader.isLeader) return;
    if (approval.status?.phase !== verdict.phase) {
      this.#writeStatus(approval, {
        phase: verdict.phase,
        ...(verdict.decidedBy === undefined ? {} : { decidedBy: verdict.decidedBy }),
        decidedAt: new Date(now).toISOString(),
      });
      return; // the update that follows schedules the deletion
    }
    const settledAtMs = Date.parse(approval.status.decidedAt ?? approval.spec?.expiresAt ?? "");
    const deleteInMs = (Number.isFinite(settledAtMs) ? settledAtMs : now) + this.#ttlMs - now;
    tracked.timer = this.#timer(() => this.#delete(approval), deleteInMs);
  }

  #observeAgain(key: string): void {
    const { namespace, name } = splitKey(key);
    const current = this.#options.approvals.get(namespace, name);
    if (current !== undefined) this.#observe(current);
  }

  #writeStatus(approval: McpApprovalObject, status: McpApprovalStatus): void {
    const { namespace = "", name = "" } = approval.metadata ?? {};
    this.#options.client.patchApprovalStatus(namespace, name, status).then(
      () => this.#options.logger.info({ approval: `${namespace}/${name}`, ...status }, "approval status written"),
      (error: unknown) => {
        this.#options.logger.warn({ approval: `${namespace}/${name}`, err: errorText(error) }, "could not write the approval's status; retrying");
        this.#retry(keyOf(approval));
      },
    );
  }

  #delete(approval: McpApprovalObject): void {
    const { namespace = "", name = "", uid = "" } = approval.metadata ?? {};
    if (!this.#options.leader.isLeader) return;
    this.#options.client.deleteApproval(namespace, name, uid).then(
      () => this.#options.logger.info({ approval: `${namespace}/${name}`, phase: approval.status?.phase }, "decided approval deleted after its TTL"),
      (error: unknown) => {
        this.#options.logger.warn({ approval: `${namespace}/${name}`, err: errorText(error) }, "could not delete the approval; retrying");
        this.#retry(keyOf(approval));
      },
    );
  }

  #retry(key: string): void {
    const tracked = this.#tracked.get(key);
    if (tracked === undefined) return;
    clearTimeout(tracked.timer);
    tracked.timer = this.#timer(() => this.#observeAgain(key), RETRY_MS);
  }

  #forget(key: string): void {
    clearTimeout(this.#tracked.get(key)?.timer);
    this.#tracked.delete(key);
  }

  #timer(fn: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(fn, Math.min(Math.max(0, ms), 2_147_483_647));
    timer.unref();
    return timer;
  }
}

interface Verdict {
  phase: FinalPhase;
  decidedBy?: string;
  reason?: string;
}

/** A final status phase, else the decision, else expiry; undefined while pending. */
function verdictOf(approval: McpApprovalObject, nowMs: number): Verdict | undefined {
  const decision = approval.spec?.decision;
  const phase = approval.status?.phase;
  if (phase === "Expired") return { phase };
  if (phase === "Approved" || phase === "Denied") {
    return { phase, ...(approval.status?.decidedBy === undefined ? {} : { decidedBy: approval.status.decidedBy }), ...(decision?.reason === undefined ? {} : { reason: decision.reason }) };
  }
  if (decision !== undefined) {
    return {
      phase: DECIDED_PHASE[decision.verdict],
      ...(decision.decidedBy === undefined ? {} : { decidedBy: decision.decidedBy }),
      ...(decision.reason === undefined ? {} : { reason: decision.reason }),
    };
  }
  const expiresAtMs = Date.parse(approval.spec?.expiresAt ?? "");
  // An approval without a readable expiry cannot be waited for: it is expired (fail closed).
  if (!Number.isFinite(expiresAtMs) || expiresAtMs <= nowMs) return { phase: "Expired" };
  return undefined;
}

function eventOf(approval: McpApprovalObject, verdict: Verdict): ApprovalEvent {
  return {
    name: approval.metadata?.name ?? "",
    verdict: streamVerdict(verdict.phase),
    ...(verdict.reason === undefined ? {} : { reason: verdict.reason }),
    ...(verdict.decidedBy === undefined ? {} : { decidedBy: verdict.decidedBy }),
  };
}

/** The `approval` event's verdict for a final phase. */
function streamVerdict(phase: FinalPhase): ApprovalVerdictName {
  switch (phase) {
    case "Approved":
      return "approved";
    case "Denied":
      return "denied";
    case "Expired":
      return "expired";
    default:
      phase satisfies never;
      return "expired";
  }
}
