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

/**
 * A pod whose MCP server speaks stdio (ADR 12): where mcp-warden-launcher lives in the
 * sidecar image (the injected init container copies it from there), the folder it is
 * copied to in the server container, and the Unix socket it listens on there, which the
 * sidecar reaches (`--upstream-socket`) through a folder both containers mount.
 */
export const LAUNCHER_IMAGE_PATH = "/usr/local/bin/mcp-warden-launcher";
export const LAUNCHER_DIR = "/var/run/mcp-warden/launcher";
export const LAUNCHER_PATH = `${LAUNCHER_DIR}/mcp-warden-launcher`;
export const STDIO_SOCKET_DIR = "/var/run/mcp-warden/stdio";
export const STDIO_SOCKET_PATH = `${STDIO_SOCKET_DIR}/server.sock`;
