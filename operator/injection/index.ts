export { injectSidecar } from "./inject-sidecar.ts";
export { defaultInjectionConfig, type InjectionConfig, type SidecarRedis, type SidecarResources } from "./injection-config.ts";
export { createInjectionHandler } from "./injection-handler.ts";
export { injectionWebhookConfiguration, INJECT_PATH } from "./webhook-configuration.ts";
