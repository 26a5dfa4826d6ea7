// The MutatingWebhookConfiguration that sends Pod creations to the injector. Two
// webhooks because one cannot OR a namespace selector with an object selector:
// namespaces labelled mcpwarden.dev/inject=enabled (pods labelled inject=false stay
// out), and pods labelled inject=true anywhere else. kube-system and the operator's
// namespace are excluded here too, so an operator that is down cannot block them.
import { INJECT_LABEL } from "../well-known.ts";

export const INJECT_PATH = "/v1/inject";

export interface WebhookConfigurationOptions {
  name?: string;
  /** Where the API server calls: a URL (out of cluster) or the operator's Service. */
  client: { url: string } | { service: { namespace: string; name: string; port: number } };
  caBundlePem: string;
  /** A chart value: Fail protects (no pod without its sidecar), Ignore keeps pods starting while the operator is down. */
  failurePolicy: "Fail" | "Ignore";
  operatorNamespace: string;
  timeoutSeconds?: number;
}

export function injectionWebhookConfiguration(options: WebhookConfigurationOptions): Record<string, unknown> {
  const clientConfig = {
    ...("url" in options.client ? { url: options.client.url.replace(/\/$/, "") + INJECT_PATH } : { service: { ...options.client.service, path: INJECT_PATH } }),
    caBundle: Buffer.from(options.caBundlePem).toString("base64"),
  };
  const excluded = { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", options.operatorNamespace] };
  const common = {
    clientConfig,
    rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], scope: "Namespaced" }],
    failurePolicy: options.failurePolicy,
    sideEffects: "None",
    admissionReviewVersions: ["v1"],
    timeoutSeconds: options.timeoutSeconds ?? 10,
    reinvocationPolicy: "IfNeeded",
    matchPolicy: "Equivalent",
  };
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: options.name ?? "mcp-warden-injector" },
    webhooks: [
      {
        name: "namespace.inject.mcpwarden.dev",
        namespaceSelector: { matchExpressions: [{ key: INJECT_LABEL, operator: "In", values: ["enabled"] }, excluded] },
        objectSelector: { matchExpressions: [{ key: INJECT_LABEL, operator: "NotIn", values: ["false"] }] },
        ...common,
      },
      {
        name: "pod.inject.mcpwarden.dev",
        namespaceSelector: { matchExpressions: [{ key: INJECT_LABEL, operator: "NotIn", values: ["enabled"] }, excluded] },
        objectSelector: { matchLabels: { [INJECT_LABEL]: "true" } },
        ...common,
      },
    ],
  };
}
