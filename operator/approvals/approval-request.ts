// What a sidecar sends with `POST /v1/approvals` and the McpApproval the operator makes
// of it (ARCHITECTURE.md "Approvals"). Pure. The pod is the one the sidecar's token is
// bound to, never a field of the body: a sidecar can only ask for approvals of its own
// pod, in its own namespace. Every field is checked against the CRD's bounds here so a
// bad ask gets a 400 naming the field instead of an API-server error.

import { dnsLabelPrefix } from "../../policy/index.ts";
import type { ApprovalRequestBody } from "../../protocol/index.ts";
import type { BoundPod } from "../stream/stream-authenticator.ts";
import type { McpApprovalObject } from "../kube-objects.ts";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../well-known.ts";

/** Routes an approval's verdict to the streams of the pod that asked. */
export const APPROVAL_POD_UID_LABEL = "mcpwarden.dev/pod-uid";

/** The longest `approval.timeout` a policy may set (policy/duration.ts), plus clock skew. */
const MAX_LIFETIME_MS = 24 * 3_600_000 + 60_000;
/** How far a sidecar's clock may be ahead of the operator's and still be believed. */
const MAX_SKEW_MS = 60_000;

export type ReadAskResult = { ok: true; ask: ApprovalRequestBody } | { ok: false; message: string };

const FIELDS: Record<keyof ApprovalRequestBody, { max: number; min?: number; pattern?: RegExp; time?: true }> = {
  policy: { max: 317, min: 1 },
  rule: { max: 512 },
  tool: { max: 256, min: 1 },
  argumentDigest: { max: 64, pattern: /^[0-9a-f]{64}$/ },
  preview: { max: 1024 },
  caller: { max: 512 },
  requestedAt: { max: 40, time: true },
  expiresAt: { max: 40, time: true },
};

export function readApprovalAsk(body: unknown, nowMs: number): ReadAskResult {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { ok: false, message: "the body must be a JSON object" };
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!(key in FIELDS)) return { ok: false, message: `${key}: unknown field` };
  for (const [field, rule] of Object.entries(FIELDS)) {
    const value = record[field];
    if (typeof value !== "string") return { ok: false, message: `${field}: must be a string` };
    // The preview is measured in bytes, as the CRD's 1 KiB; the rest are ASCII or names.
    const length = field === "preview" ? Buffer.byteLength(value) : value.length;
    if (length > rule.max) return { ok: false, message: `${field}: longer than ${rule.max}` };
    if (rule.min !== undefined && length < rule.min) return { ok: false, message: `${field}: must not be empty` };
    if (rule.pattern !== undefined && !rule.pattern.test(value)) return { ok: false, message: `${field}: must match ${rule.pattern.source}` };
    if (rule.time === true && !isRfc3339(value)) return { ok: false, message: `${field}: must be an RFC 3339 time` };
  }
  const ask = record as unknown as ApprovalRequestBody;
  const expiresAtMs = Date.parse(ask.expiresAt);
  const requestedAtMs = Date.parse(ask.requestedAt);
  if (expiresAtMs <= nowMs) return { ok: false, message: "expiresAt: is already past" };
  if (expiresAtMs <= requestedAtMs) return { ok: false, message: "expiresAt: must be after requestedAt" };
  if (expiresAtMs - nowMs > MAX_LIFETIME_MS) return { ok: false, message: "expiresAt: more than 24 h ahead (the longest approval.timeout)" };
  if (requestedAtMs - nowMs > MAX_SKEW_MS) return { ok: false, message: "requestedAt: is in the future" };
  return { ok: true, ask };
}

/** The McpApproval for an ask, in the pod's namespace, owned by the pod (deleted with it). */
export function approvalObjectFor(pod: BoundPod, ask: ApprovalRequestBody): McpApprovalObject {
  return {
    apiVersion: "mcpwarden.dev/v1alpha1",
    kind: "McpApproval",
    metadata: {
      generateName: `${dnsLabelPrefix(ask.tool, 40, "call")}-`,
      namespace: pod.namespace,
      labels: { [APPROVAL_POD_UID_LABEL]: pod.uid, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
      ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: pod.name, uid: pod.uid }],
    },
    spec: {
      pod: pod.name,
      policy: ask.policy,
      ...(ask.rule === "" ? {} : { rule: ask.rule }),
      tool: ask.tool,
      argumentDigest: ask.argumentDigest,
      preview: ask.preview,
      caller: ask.caller,
      requestedAt: ask.requestedAt,
      expiresAt: ask.expiresAt,
    },
  };
}

function isRfc3339(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value) && Number.isFinite(Date.parse(value));
}
