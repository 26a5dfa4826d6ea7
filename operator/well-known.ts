// Names shared by injection, reconcile and the stream (ARCHITECTURE.md "Injection",
// "Sidecar ↔ operator protocol"). They are API: users and charts write them. What the
// sidecar reads too (its ports, env names, the token's audience) is in protocol/.

/** Namespace label value `enabled`, Pod label value `true` opt in; Pod label `false` opts out. */
export const INJECT_LABEL = "mcpwarden.dev/inject";
/** Set on injected pods: the informer's selector, the PodMonitor's, and the idempotency marker. */
export const INJECTED_LABEL = "mcpwarden.dev/injected";
export const UPSTREAM_PORT_ANNOTATION = "mcpwarden.dev/upstream-port";
/** `http` (default: the server listens on upstream-port) or `stdio` (mcp-warden-launcher runs it per session). */
export const UPSTREAM_TRANSPORT_ANNOTATION = "mcpwarden.dev/upstream-transport";
/** With stdio: the server's whole command line, when the container's command is the image's ENTRYPOINT. */
export const UPSTREAM_COMMAND_ANNOTATION = "mcpwarden.dev/upstream-command";
/** With stdio: which container runs the server, when the pod has more than one. */
export const UPSTREAM_CONTAINER_ANNOTATION = "mcpwarden.dev/upstream-container";
/** Written by the replica that receives the sidecar's ack. */
export const APPLIED_REVISION_ANNOTATION = "mcpwarden.dev/applied-revision";
/** Written by the replica that receives the sidecar's report of listed tool definitions: JSON {tool: "sha256:…"}. */
export const TOOL_DEFINITIONS_ANNOTATION = "mcpwarden.dev/tool-definitions";

export const SIDECAR_CONTAINER_NAME = "mcp-warden";
/** The init container that copies mcp-warden-launcher into a pod whose server speaks stdio. */
export const LAUNCHER_CONTAINER_NAME = "mcp-warden-launcher";
export const SIDECAR_PORT_NAME = "mcp-warden";
export const ADMIN_PORT_NAME = "warden-admin";

/** TokenReview's extra claims for a token bound to a Pod. */
export const POD_NAME_CLAIM = "authentication.kubernetes.io/pod-name";
export const POD_UID_CLAIM = "authentication.kubernetes.io/pod-uid";

export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "mcp-warden";
export const POLICY_LABEL = "mcpwarden.dev/policy";
