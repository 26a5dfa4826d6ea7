import { describe, expect, it } from "vitest";
import { mutateApproval, validateApproval, type PodServiceAccount } from "./admit-approval.ts";

const spec = { pod: "agent-0", policy: "team/p", tool: "deploy", argumentDigest: "a".repeat(64), preview: "{}", caller: "alice", requestedAt: "2026-11-22T06:00:00Z", expiresAt: "2026-11-22T06:10:00Z" };

function review(operation: "CREATE" | "UPDATE", username: string, decision?: object | null, oldDecision?: object, extra: object = {}): unknown {
  const object = { metadata: { name: "deploy-1", namespace: "team" }, spec: { ...spec, ...(decision === undefined ? {} : { decision }) } };
  const oldObject = operation === "UPDATE" ? { metadata: object.metadata, spec: { ...spec, ...(oldDecision === undefined ? {} : { decision: oldDecision }) } } : null;
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "u-1", operation, namespace: "team", userInfo: { username }, object, oldObject, ...extra } };
}

/** Between requestedAt and expiresAt of `spec`. */
const NOW = Date.parse("2026-11-22T06:05:00Z");

const pods: PodServiceAccount = (namespace, pod) => (namespace === "team" && pod === "agent-0" ? "agent" : undefined);

function patchOf(result: ReturnType<typeof mutateApproval>): unknown {
  if (!result.ok) throw new Error(result.message);
  const patch = result.review.response.patch;
  return patch === undefined ? undefined : JSON.parse(Buffer.from(patch, "base64").toString("utf8"));
}

describe("mutateApproval", () => {
  it("records the authenticated user as the decider, replacing what the client wrote", () => {
    expect(patchOf(mutateApproval(review("UPDATE", "bob", { verdict: "approve" })))).toEqual([{ op: "add", path: "/spec/decision/decidedBy", value: "bob" }]);
    expect(patchOf(mutateApproval(review("UPDATE", "bob", { verdict: "approve", decidedBy: "the-ceo" })))).toEqual([{ op: "replace", path: "/spec/decision/decidedBy", value: "bob" }]);
  });

  it("leaves objects without a new decision alone", () => {
    expect(patchOf(mutateApproval(review("CREATE", "system:serviceaccount:mcp-warden:operator")))).toBeUndefined();
    expect(patchOf(mutateApproval(review("UPDATE", "carol", { verdict: "deny", decidedBy: "bob" }, { verdict: "approve", decidedBy: "bob" })))).toBeUndefined();
  });

  it("rejects a body that is not an AdmissionReview", () => {
    expect(mutateApproval({ kind: "Pod" })).toMatchObject({ ok: false });
  });
});

describe("validateApproval", () => {
  const verdict = (body: unknown): { allowed: boolean; message?: string } => {
    const result = validateApproval(body, pods, NOW);
    if (!result.ok) throw new Error(result.message);
    return { allowed: result.review.response.allowed, ...(result.review.response.status === undefined ? {} : { message: result.review.response.status.message }) };
  };

  it("lets a person decide once", () => {
    expect(verdict(review("UPDATE", "bob", { verdict: "approve", decidedBy: "bob" }))).toEqual({ allowed: true });
    expect(verdict(review("CREATE", "system:serviceaccount:mcp-warden:operator"))).toEqual({ allowed: true });
  });

  it("refuses a second decision, a changed one and a removed one", () => {
    expect(verdict(review("UPDATE", "carol", { verdict: "deny", decidedBy: "carol" }, { verdict: "approve", decidedBy: "bob" })).message).toContain("already decided");
    expect(verdict(review("UPDATE", "carol", null, { verdict: "approve", decidedBy: "bob" })).message).toContain("already decided");
    expect(verdict(review("UPDATE", "carol", { verdict: "approve", decidedBy: "bob" }, { verdict: "approve", decidedBy: "bob" }))).toEqual({ allowed: true });
  });

  it("refuses a decision at or after expiry, and on an approval whose expiry cannot be read", () => {
    const body = review("UPDATE", "bob", { verdict: "approve", decidedBy: "bob" });
    const at = (nowMs: number) => {
      const result = validateApproval(body, pods, nowMs);
      if (!result.ok) throw new Error(result.message);
      return result.review.response;
    };
    expect(at(Date.parse(spec.expiresAt) - 1).allowed).toBe(true);
    expect(at(Date.parse(spec.expiresAt))).toMatchObject({ allowed: false, status: { message: "this approval expired at 2026-11-22T06:10:00Z; expiry is a deny and it can no longer be decided" } });
    const unreadable = review("UPDATE", "bob", { verdict: "approve", decidedBy: "bob" });
    (unreadable as { request: { object: { spec: { expiresAt: string } } } }).request.object.spec.expiresAt = "soon";
    expect(validateApproval(unreadable, pods, NOW)).toMatchObject({ ok: true, review: { response: { allowed: false } } });
  });

  it("refuses the caller deciding its own call", () => {
    expect(verdict(review("UPDATE", "alice", { verdict: "approve", decidedBy: "alice" }))).toEqual({ allowed: false, message: "alice is the caller of this tool call and cannot decide its own approval" });
  });

  it("refuses the pod's own ServiceAccount, and a pod it cannot check", () => {
    expect(verdict(review("UPDATE", "system:serviceaccount:team:agent", { verdict: "approve", decidedBy: "system:serviceaccount:team:agent" })).message).toContain("is the ServiceAccount of pod agent-0");
    const unknownPod = review("UPDATE", "bob", { verdict: "approve", decidedBy: "bob" });
    (unknownPod as { request: { object: { spec: { pod: string } } } }).request.object.spec.pod = "gone";
    expect(verdict(unknownPod).message).toContain("pod team/gone is not known");
  });

  it("refuses a decision whose decider is not the requester (no mutating webhook ran)", () => {
    expect(verdict(review("UPDATE", "bob", { verdict: "approve", decidedBy: "the-ceo" })).message).toContain("decidedBy must be the user");
    expect(verdict(review("CREATE", "bob", { verdict: "approve" })).message).toContain("decidedBy must be the user");
  });
});
