// The policy stream between a sidecar and the operator (docs/architecture.md "Sidecar ↔
// operator protocol"): the paths, the Server-Sent Events and the JSON bodies. The
// operator serves it (operator/stream/, operator/approvals/); the sidecar reads it
// (sidecar/policy-source/, sidecar/approvals/). Types and constants only.

import type { PolicyBundle } from "../policy/index.ts";

/** `GET`: the Server-Sent Events stream of the pod's bundles and approval verdicts. */
export const STREAM_PATH = "/v1/stream";
/** `POST` an {@link AckBody} once a bundle is applied; 204. */
export const ACK_PATH = "/v1/ack";
/** `POST` an {@link ApprovalRequestBody}; 201 with an {@link ApprovalFiledBody}. */
export const APPROVALS_PATH = "/v1/approvals";

/** The SSE `event:` names on the stream (anything else is ignored by the sidecar). */
export const BUNDLE_EVENT = "bundle";
export const APPROVAL_EVENT = "approval";
/** A comment line is sent this often; a sidecar that hears nothing for 3 intervals reconnects. */
export const HEARTBEAT_INTERVAL_MS = 15_000;

/** The `bundle` event's data: `{revision, policies: [{namespace, name, generation}], table}`. */
export type BundleEvent = PolicyBundle;

export const APPROVAL_VERDICTS = ["approved", "denied", "expired"] as const;
export type ApprovalVerdictName = (typeof APPROVAL_VERDICTS)[number];

/** The `approval` event's data: the verdict on one of the pod's approvals. */
export interface ApprovalEvent {
  name: string;
  verdict: ApprovalVerdictName;
  reason?: string;
  decidedBy?: string;
}

/** `POST /v1/ack`: the revision of the bundle the sidecar now enforces. */
export interface AckBody {
  revision: string;
}

/**
 * `POST /v1/approvals`: a held call, as the McpApproval's spec names it (times RFC 3339).
 * The pod is never a field: the operator takes it from the token.
 */
export interface ApprovalRequestBody {
  policy: string;
  /** "" when the approving rule has no name. */
  rule: string;
  tool: string;
  /** SHA-256 hex of the RFC 8785 canonical JSON of the arguments. */
  argumentDigest: string;
  /** Redacted arguments, at most 1 KiB. */
  preview: string;
  caller: string;
  requestedAt: string;
  expiresAt: string;
}

/** The 201 answer to `POST /v1/approvals`: the McpApproval the operator created. */
export interface ApprovalFiledBody {
  name: string;
  namespace: string;
}

/** Every refusal on the stream's endpoints (4xx, 5xx) is JSON `{error}`. */
export interface StreamErrorBody {
  error: string;
}
