export { injectSidecar, type InjectionResult, UPSTREAM_PATH_ANNOTATION, STATE_DIR } from "./inject-sidecar.ts";
export { admitPod, type AdmitPodResult, type AdmissionReviewReply } from "./admit-pod.ts";
export { defaultInjectionConfig, DEFAULT_SIDECAR_RESOURCES, type InjectionConfig, type SecretKeyRef, type SidecarRedis, type SidecarResources } from "./injection-config.ts";
export { createInjectionHandler } from "./injection-handler.ts";
export { injectionWebhookConfiguration, INJECT_PATH, type WebhookConfigurationOptions } from "./webhook-configuration.ts";
