import { describe, expect, it } from "vitest";
import fastJsonPatch from "fast-json-patch";
import type { Pod } from "../kube-objects.ts";
import { podObject } from "../testing/objects.ts";
import { admitPod } from "./admit-pod.ts";
import { defaultInjectionConfig } from "./injection-config.ts";
import { injectSidecar } from "./inject-sidecar.ts";

const config = defaultInjectionConfig({ image: "mcp-warden:test", controlPlaneUrl: "https://operator:9444", caPem: "CA", skipNamespaces: ["kube-system", "ops"] });

function review(object: unknown, overrides: Record<string, unknown> = {}) {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      operation: "CREATE",
      namespace: "agents",
      object,
      ...overrides,
    },
  };
}

function newPod(): Pod {
  const pod = podObject("agents", "p", { app: "x" }, { injected: false });
  delete pod.status;
  delete pod.metadata?.uid;
  return pod;
}

describe("admitPod", () => {
  it("answers with a JSONPatch that turns the pod into the injected pod", () => {
    const pod = newPod();
    const result = admitPod(review(pod), config);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.result).toBe("injected");
    const { response } = result.review;
    expect(response).toMatchObject({ uid: "705ab4f5-6393-11e8-b7cc-42010a800002", allowed: true, patchType: "JSONPatch" });
    const patch = JSON.parse(Buffer.from(response.patch ?? "", "base64").toString("utf8")) as fastJsonPatch.Operation[];
    const patched = fastJsonPatch.applyPatch(structuredClone(pod), patch, true, false).newDocument;
    expect(patched).toEqual((injectSidecar(pod, config) as { pod: Pod }).pod);
    // label keys with "/" are escaped as JSON Pointer requires
    expect(patch.some((op) => op.path === "/metadata/labels/mcpwarden.dev~1injected")).toBe(true);
  });

  it("refuses a pod without the upstream-port annotation, saying so", () => {
    const pod = newPod();
    delete pod.metadata?.annotations;
    const result = admitPod(review(pod), config);
    expect(result.ok && result.review.response).toMatchObject({ allowed: false, status: { code: 400, message: expect.stringContaining("mcpwarden.dev/upstream-port") } });
    expect(result.ok && result.result).toBe("refused");
  });

  it("allows without a patch what it does not inject", () => {
    for (const body of [review(newPod(), { namespace: "ops" }), review(newPod(), { operation: "UPDATE" }), review({}, { resource: { group: "", version: "v1", resource: "pods" }, subResource: "status" })]) {
      const result = admitPod(body, config);
      expect(result.ok && result.review.response).toEqual({ uid: "705ab4f5-6393-11e8-b7cc-42010a800002", allowed: true });
    }
  });

  it("rejects what is not an AdmissionReview", () => {
    expect(admitPod({ kind: "Pod" }, config)).toMatchObject({ ok: false });
    expect(admitPod(null, config)).toMatchObject({ ok: false });
    expect(admitPod({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: {} }, config)).toMatchObject({ ok: false });
  });
});
