// What the operator's injector gives the sidecar container it adds to a pod, and what
// the sidecar reads back (docs/architecture.md "Injection", "Sidecar ↔ operator
// protocol"): environment variable names, the projected token, the ports. Constants only.

/** The policy stream's base URL (`--control-plane` reads it by default). */
export const CONTROL_PLANE_ENV = "MCPWARDEN_CONTROL_PLANE";
/** The PEM of the CA that signed the operator's serving certificate. */
export const CA_PEM_ENV = "MCPWARDEN_CA_PEM";
/** With a Redis Secret: the kubelet fills it from the Secret and expands `--redis=$(…)`. */
export const REDIS_URL_ENV = "MCPWARDEN_REDIS_URL";
/** The pod's own name and namespace, from the downward API. */
export const POD_NAME_ENV = "MCPWARDEN_POD_NAME";
export const POD_NAMESPACE_ENV = "MCPWARDEN_POD_NAMESPACE";

/** The audience of the projected ServiceAccount token the sidecar presents on the stream. */
export const TOKEN_AUDIENCE = "mcpwarden.dev";
/** Where the injector mounts that token, and where `--token-file` looks by default. */
export const TOKEN_DIR = "/var/run/secrets/mcpwarden.dev";
export const TOKEN_FILE = `${TOKEN_DIR}/token`;

/** The sidecar's MCP port and its admin port (/metrics, /healthz, /readyz). */
export const SIDECAR_PORT = 9000;
export const ADMIN_PORT = 9464;
