// AdmissionReview (admission.k8s.io/v1) in, AdmissionReview out. Decodes, checks,
// delegates to injectSidecar, and turns its answer into a JSONPatch by diffing the
// mutated copy against the original (fast-json-patch `compare`), never by writing
// patch paths by hand.
import fastJsonPatch from "fast-json-patch";
import type { Pod } from "../kube-objects.ts";
import type { InjectionResult as MetricResult } from "../metrics/operator-metrics.ts";
import type { InjectionConfig } from "./injection-config.ts";
import { injectSidecar } from "./inject-sidecar.ts";

interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: "JSONPatch";
  patch?: string;
  status?: { code: number; message: string };
}

export interface AdmissionReviewReply {
  apiVersion: "admission.k8s.io/v1";
  kind: "AdmissionReview";
  response: AdmissionResponse;
}

export type AdmitPodResult =
  | { ok: true; review: AdmissionReviewReply; result: MetricResult; detail: string }
  | { ok: false; message: string };

interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  resource?: { group?: string; version?: string; resource?: string };
  subResource?: string;
  operation?: string;
  namespace?: string;
  name?: string;
  object?: unknown;
}

export function admitPod(body: unknown, config: InjectionConfig): AdmitPodResult {
  if (typeof body !== "object" || body === null) return { ok: false, message: "the body is not an AdmissionReview" };
  const review = body as { apiVersion?: unknown; kind?: unknown; request?: unknown };
  if (review.apiVersion !== "admission.k8s.io/v1" || review.kind !== "AdmissionReview") {
    return { ok: false, message: "expected an admission.k8s.io/v1 AdmissionReview" };
  }
  const request = review.request as AdmissionRequest | undefined;
  if (typeof request !== "object" || request === null || typeof request.uid !== "string") return { ok: false, message: "the AdmissionReview has no request.uid" };

  const reply = (response: Omit<AdmissionResponse, "uid">): AdmissionReviewReply => ({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    response: { uid: request.uid, ...response },
  });
  const isPodCreate =
    request.operation === "CREATE" && (request.resource?.group ?? "") === "" && request.resource?.resource === "pods" && (request.subResource ?? "") === "";
  if (!isPodCreate || typeof request.object !== "object" || request.object === null) {
    return { ok: true, review: reply({ allowed: true }), result: "skipped", detail: "not a Pod being created" };
  }

  const pod = request.object as Pod;
  let outcome: InjectionResult;
  try {
    outcome = injectSidecar(pod, config, request.namespace);
  } catch (error) {
    // Fail closed: a pod that should be protected is not admitted unprotected.
    const message = `mcp-warden could not inject its sidecar: ${error instanceof Error ? error.message : String(error)}`;
    return { ok: true, review: reply({ allowed: false, status: { code: 500, message } }), result: "error", detail: message };
  }
  switch (outcome.action) {
    case "skip":
      return { ok: true, review: reply({ allowed: true }), result: "skipped", detail: outcome.reason };
    case "refuse":
      return { ok: true, review: reply({ allowed: false, status: { code: 400, message: outcome.message } }), result: "refused", detail: outcome.message };
    case "inject": {
      const patch = fastJsonPatch.compare(pod, outcome.pod);
      return {
        ok: true,
        review: reply({ allowed: true, patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(patch)).toString("base64") }),
        result: "injected",
        detail: `${patch.length} patch operations`,
      };
    }
  }
}

type InjectionResult = ReturnType<typeof injectSidecar>;
