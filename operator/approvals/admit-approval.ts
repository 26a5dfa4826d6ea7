// McpApproval admission (ARCHITECTURE.md "Approvals"): who decided is what the API server
// authenticated, never what the client wrote. The mutating webhook sets
// spec.decision.decidedBy from the request's userInfo whenever a decision is being made;
// the validating webhook refuses a second decision, a decision after expiry, a decision by
// the caller itself, and one by the ServiceAccount of the pod that holds the call (the agent's own pod must not
// approve its own calls). Pure: AdmissionReview in, AdmissionReview out. The patch is a
// diff of the mutated copy (fast-json-patch `compare`), never hand-written paths.

import fastJsonPatch from "fast-json-patch";
import type { AdmissionReviewReply } from "../injection/admit-pod.ts";

export const APPROVAL_MUTATE_PATH = "/v1/approvals/mutate";
export const APPROVAL_VALIDATE_PATH = "/v1/approvals/validate";

interface Decision {
  verdict?: unknown;
  reason?: unknown;
  decidedBy?: unknown;
}

interface ApprovalObject {
  metadata?: { name?: string; namespace?: string };
  spec?: { pod?: unknown; caller?: unknown; decision?: Decision | null };
}

interface ApprovalAdmissionRequest {
  uid: string;
  operation?: string;
  namespace?: string;
  name?: string;
  subResource?: string;
  userInfo?: { username?: string };
  object?: ApprovalObject | null;
  oldObject?: ApprovalObject | null;
}

export type AdmitApprovalResult = { ok: true; review: AdmissionReviewReply; detail: string } | { ok: false; message: string };

/** The ServiceAccount of a pod in a namespace, or undefined when the pod is not known. */
export type PodServiceAccount = (namespace: string, pod: string) => string | undefined;

function readRequest(body: unknown): { ok: true; request: ApprovalAdmissionRequest } | { ok: false; message: string } {
  if (typeof body !== "object" || body === null) return { ok: false, message: "the body is not an AdmissionReview" };
  const review = body as { apiVersion?: unknown; kind?: unknown; request?: unknown };
  if (review.apiVersion !== "admission.k8s.io/v1" || review.kind !== "AdmissionReview") return { ok: false, message: "expected an admission.k8s.io/v1 AdmissionReview" };
  const request = review.request as ApprovalAdmissionRequest | undefined;
  if (typeof request !== "object" || request === null || typeof request.uid !== "string") return { ok: false, message: "the AdmissionReview has no request.uid" };
  return { ok: true, request };
}

function reply(uid: string, response: Omit<AdmissionReviewReply["response"], "uid">): AdmissionReviewReply {
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid, ...response } };
}

/** A decision present now that was not there before (a CREATE with one counts). */
function decisionBeingMade(request: ApprovalAdmissionRequest): boolean {
  const now = request.object?.spec?.decision;
  const before = request.oldObject?.spec?.decision;
  return now !== undefined && now !== null && (before === undefined || before === null);
}

export function mutateApproval(body: unknown): AdmitApprovalResult {
  const read = readRequest(body);
  if (!read.ok) return read;
  const { request } = read;
  if ((request.subResource ?? "") !== "" || request.object === undefined || request.object === null || !decisionBeingMade(request)) {
    return { ok: true, review: reply(request.uid, { allowed: true }), detail: "no decision being made" };
  }
  const username = request.userInfo?.username ?? "";
  const mutated = structuredClone(request.object);
  const decision = mutated.spec?.decision as Decision;
  decision.decidedBy = username;
  const patch = fastJsonPatch.compare(request.object, mutated);
  if (patch.length === 0) return { ok: true, review: reply(request.uid, { allowed: true }), detail: `decidedBy already ${username}` };
  return {
    ok: true,
    review: reply(request.uid, { allowed: true, patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(patch)).toString("base64") }),
    detail: `decidedBy set to ${username}`,
  };
}

export function validateApproval(body: unknown, podServiceAccount: PodServiceAccount, nowMs: number): AdmitApprovalResult {
  const read = readRequest(body);
  if (!read.ok) return read;
  const { request } = read;
  const allow = (detail: string): AdmitApprovalResult => ({ ok: true, review: reply(request.uid, { allowed: true }), detail });
  const deny = (message: string): AdmitApprovalResult => ({ ok: true, review: reply(request.uid, { allowed: false, status: { code: 403, message } }), detail: message });
  if ((request.subResource ?? "") !== "" || request.object === undefined || request.object === null) return allow("not a decision");

  const now = request.object.spec?.decision ?? undefined;
  const before = request.oldObject?.spec?.decision ?? undefined;
  if (before !== undefined) {
    const same = now !== undefined && now.verdict === before.verdict && now.reason === before.reason && now.decidedBy === before.decidedBy;
    return same ? allow("the decision is unchanged") : deny("this approval was already decided; a decision cannot be changed or removed");
  }
  if (now === undefined) return allow("no decision");

  const username = request.userInfo?.username ?? "";
  const expiresAt = (request.object.spec as { expiresAt?: unknown } | undefined)?.expiresAt;
  const expiresAtMs = typeof expiresAt === "string" ? Date.parse(expiresAt) : Number.NaN;
  // A decision counts only before expiry; after it the approval is a deny, whatever anyone says.
  if (!Number.isFinite(expiresAtMs) || expiresAtMs <= nowMs) return deny(`this approval expired at ${typeof expiresAt === "string" ? expiresAt : "?"}; expiry is a deny and it can no longer be decided`);
  const namespace = request.namespace ?? request.object.metadata?.namespace ?? "";
  const caller = request.object.spec?.caller;
  const pod = request.object.spec?.pod;
  if (username === "") return deny("a decision needs an authenticated user");
  if (typeof caller === "string" && caller !== "" && username === caller) return deny(`${username} is the caller of this tool call and cannot decide its own approval`);
  if (typeof pod !== "string" || pod === "") return deny("the approval names no pod; it cannot be decided");
  const serviceAccount = podServiceAccount(namespace, pod);
  if (serviceAccount === undefined) return deny(`pod ${namespace}/${pod} is not known to the operator, so who may decide cannot be checked; the approval cannot be decided`);
  if (username === `system:serviceaccount:${namespace}:${serviceAccount}`) return deny(`${username} is the ServiceAccount of pod ${pod}, whose call this is; it cannot decide the approval`);
  if (now.decidedBy !== username) return deny("spec.decision.decidedBy must be the user making the decision (is the mutating webhook installed?)");
  return allow(`decided by ${username}`);
}
