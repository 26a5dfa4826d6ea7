// Where a held call's approval is asked for and decided. The gate (approval-gate.ts) only
// sees this interface: the standalone sidecar keeps approvals in memory (LocalApprovalDesk,
// decided through the admin API); with the operator they become McpApproval objects.

export type ApprovalPhase = "Pending" | "Approved" | "Denied" | "Expired";

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
