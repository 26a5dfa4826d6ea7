// Adds the mcp-warden sidecar to a Pod (ARCHITECTURE.md "Injection"). Pure: the
// admission handler diffs the result against the original to get the JSONPatch.
// Whether a pod is opted in at all (namespace label inject=enabled, pod label
// inject=true) is decided by the webhook's selectors; this function handles what
// they cannot: opt-out, skipped namespaces, idempotence and refusals.
import { sidecarNodeOptions } from "./sidecar-node-options.ts";
import {
  ADMIN_PORT,
  CA_PEM_ENV,
  CONTROL_PLANE_ENV,
  POD_NAME_ENV,
  POD_NAMESPACE_ENV,
  REDIS_URL_ENV,
  SIDECAR_PORT,
  STDIO_SOCKET_DIR,
  STDIO_SOCKET_PATH,
  TOKEN_AUDIENCE,
  TOKEN_DIR,
  TOKEN_FILE,
} from "../../protocol/index.ts";
import type { Container, Pod } from "../kube-objects.ts";
import { ADMIN_PORT_NAME, INJECT_LABEL, INJECTED_LABEL, SIDECAR_CONTAINER_NAME, SIDECAR_PORT_NAME, UPSTREAM_PORT_ANNOTATION, UPSTREAM_TRANSPORT_ANNOTATION } from "../well-known.ts";
import { upstreamPort } from "../reconcile/upstream-port.ts";
import { FORWARD_PATHS_ANNOTATION } from "../../protocol/sidecar-tunables.ts";
import { sidecarSettingsArgs } from "./sidecar-settings.ts";
import { restrictedSecurityContext, type InjectionConfig, type SidecarRedis } from "./injection-config.ts";
import { planStdioServer, putLauncherInFront, STDIO_VOLUME, upstreamTransport, type StdioServerPlan } from "./stdio-server.ts";

/** Where the MCP endpoint lives on the upstream port (default /mcp). */
const UPSTREAM_PATH_ANNOTATION = "mcpwarden.dev/upstream-path";

const TOKEN_VOLUME = "mcp-warden-token";
const STATE_VOLUME = "mcp-warden-state";
const STATE_DIR = "/var/run/mcp-warden/state";

export type InjectionResult = { action: "inject"; pod: Pod } | { action: "skip"; reason: string } | { action: "refuse"; message: string };

/**
 * @param requestNamespace the admission request's namespace (a Pod being created may not
 * carry metadata.namespace yet)
 */
export function injectSidecar(pod: Pod, config: InjectionConfig, requestNamespace?: string): InjectionResult {
  const namespace = requestNamespace ?? pod.metadata?.namespace ?? "";
  const labels = pod.metadata?.labels ?? {};
  if (config.skipNamespaces.includes(namespace)) return { action: "skip", reason: `namespace ${namespace} is never injected` };
  if (labels[INJECT_LABEL] === "false") return { action: "skip", reason: `the pod is labelled ${INJECT_LABEL}=false` };
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  if (labels[INJECTED_LABEL] === "true" || containers.some((container) => container.name === SIDECAR_CONTAINER_NAME)) {
    return { action: "skip", reason: "the pod already carries the sidecar" };
  }

  const transport = upstreamTransport(pod);
  if (!transport.ok) return { action: "refuse", message: `mcp-warden cannot protect this pod: ${transport.message}` };
  let upstreamArg: string;
  let stdio: Extract<StdioServerPlan, { ok: true }> | undefined;
  if (transport.transport === "stdio") {
    const plan = planStdioServer(pod);
    if (!plan.ok) return { action: "refuse", message: `mcp-warden cannot protect this pod: ${plan.message}` };
    stdio = plan;
    upstreamArg = `--upstream-socket=${STDIO_SOCKET_PATH}`;
  } else {
    const http = httpUpstreamArg(pod);
    if (!http.ok) return { action: "refuse", message: http.message };
    upstreamArg = http.arg;
  }
  const taken = containers.flatMap((container) => container.ports ?? []).find((port) => port.containerPort === SIDECAR_PORT || port.containerPort === ADMIN_PORT);
  if (taken !== undefined) {
    return { action: "refuse", message: `mcp-warden cannot protect this pod: a container already declares port ${taken.containerPort}, which the sidecar needs` };
  }
  if (pod.spec?.hostNetwork === true) {
    return { action: "refuse", message: "mcp-warden cannot protect this pod: it uses hostNetwork, where the sidecar's ports would be the node's" };
  }

  if (stdio !== undefined && pod.metadata?.annotations?.[FORWARD_PATHS_ANNOTATION] !== undefined) {
    return { action: "refuse", message: `mcp-warden cannot protect this pod: ${FORWARD_PATHS_ANNOTATION} forwards HTTP paths to the server, and a stdio server has none; remove the annotation` };
  }
  const settings = sidecarSettingsArgs(pod.metadata?.annotations ?? {}, {
    tunables: config.sidecarTunables,
    // The operator's forwarded paths are for HTTP servers.
    forwardPaths: stdio === undefined ? config.forwardPaths : [],
    memoryLimit: config.resources.limits?.["memory"],
  });
  if (!settings.ok) return { action: "refuse", message: `mcp-warden cannot protect this pod: ${settings.message}` };

  const injected: Pod = structuredClone(pod);
  const metadata = (injected.metadata ??= {});
  metadata.labels = { ...metadata.labels, [INJECTED_LABEL]: "true" };
  const spec = (injected.spec ??= {});
  // First: a native sidecar starts before the containers after it, so the MCP server
  // is never reachable without it.
  spec.initContainers = [sidecarContainer(config, upstreamArg, settings.args, stdio !== undefined), ...(spec.initContainers ?? [])];
  spec.volumes = [
    ...(spec.volumes ?? []),
    {
      name: TOKEN_VOLUME,
      projected: { sources: [{ serviceAccountToken: { audience: TOKEN_AUDIENCE, expirationSeconds: config.tokenExpirationSeconds, path: "token" } }] },
    },
    { name: STATE_VOLUME, emptyDir: { sizeLimit: "16Mi" } },
  ];
  if (stdio !== undefined) putLauncherInFront(injected, stdio, config);
  return { action: "inject", pod: injected };
}

/** `--upstream=http://127.0.0.1:PORT/PATH` from upstream-port and upstream-path, or the refusal. */
function httpUpstreamArg(pod: Pod): { ok: true; arg: string } | { ok: false; message: string } {
  const written = pod.metadata?.annotations?.[UPSTREAM_PORT_ANNOTATION];
  if (written === undefined || written.trim() === "") {
    return {
      ok: false,
      message:
        `mcp-warden cannot protect this pod: it has no ${UPSTREAM_PORT_ANNOTATION} annotation naming the MCP server's port. ` +
        `Annotate the pod (template), e.g. ${UPSTREAM_PORT_ANNOTATION}: "8080" (or ${UPSTREAM_TRANSPORT_ANNOTATION}: stdio for a server that speaks stdio), or label it ${INJECT_LABEL}: "false" to opt out`,
    };
  }
  const upstream = upstreamPort(pod);
  if (upstream === undefined) {
    return {
      ok: false,
      message: `mcp-warden cannot protect this pod: ${UPSTREAM_PORT_ANNOTATION} is ${JSON.stringify(written)}, which is neither a port number (1-65535) nor the name of one of its container ports`,
    };
  }
  if (upstream.number === SIDECAR_PORT || upstream.number === ADMIN_PORT) {
    return { ok: false, message: `mcp-warden cannot protect this pod: its MCP server uses port ${upstream.number}, which the sidecar needs; move the server to another port` };
  }
  const path = pod.metadata?.annotations?.[UPSTREAM_PATH_ANNOTATION] ?? "/mcp";
  if (!/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/.test(path)) {
    return { ok: false, message: `mcp-warden cannot protect this pod: ${UPSTREAM_PATH_ANNOTATION} must be a URL path such as /mcp, got ${JSON.stringify(path)}` };
  }
  return { ok: true, arg: `--upstream=http://127.0.0.1:${upstream.number}${path}` };
}

function sidecarContainer(config: InjectionConfig, upstreamArg: string, settingsArgs: readonly string[], stdio: boolean): Container {
  const adminProbe = (path: string, periodSeconds: number, failureThreshold: number): Record<string, unknown> => ({
    httpGet: { path, port: ADMIN_PORT_NAME },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  });
  return {
    name: SIDECAR_CONTAINER_NAME,
    image: config.image,
    imagePullPolicy: config.imagePullPolicy,
    restartPolicy: "Always",
    args: [
      "sidecar",
      `--listen=0.0.0.0:${SIDECAR_PORT}`,
      `--admin=0.0.0.0:${ADMIN_PORT}`,
      upstreamArg,
      `--control-plane=$(${CONTROL_PLANE_ENV})`,
      `--token-file=${TOKEN_FILE}`,
      `--state-dir=${STATE_DIR}`,
      `--log-level=${config.logLevel}`,
      ...(config.redis === undefined ? [] : redisArgs(config.redis)),
      ...settingsArgs,
    ],
    env: [
      { name: CONTROL_PLANE_ENV, value: config.controlPlaneUrl },
      { name: CA_PEM_ENV, value: config.caPem },
      { name: POD_NAME_ENV, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: POD_NAMESPACE_ENV, valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      { name: "NODE_OPTIONS", value: sidecarNodeOptions(config.resources.limits?.["memory"]) },
      ...(config.redis !== undefined && "secret" in config.redis ? [{ name: REDIS_URL_ENV, valueFrom: { secretKeyRef: { name: config.redis.secret.name, key: config.redis.secret.key } } }] : []),
      ...tracingEnv(config.tracingEnv),
    ],
    ports: [
      { name: SIDECAR_PORT_NAME, containerPort: SIDECAR_PORT, protocol: "TCP" },
      { name: ADMIN_PORT_NAME, containerPort: ADMIN_PORT, protocol: "TCP" },
    ],
    // Startup gates the pod's other containers: the process is up. Readiness: a
    // policy is loaded (a sidecar that never had one refuses every call).
    startupProbe: adminProbe("/healthz", 1, 60),
    readinessProbe: adminProbe("/readyz", 5, 3),
    livenessProbe: adminProbe("/healthz", 10, 3),
    resources: structuredClone(config.resources),
    securityContext: restrictedSecurityContext(config),
    volumeMounts: [
      { name: TOKEN_VOLUME, mountPath: TOKEN_DIR, readOnly: true },
      { name: STATE_VOLUME, mountPath: STATE_DIR },
      ...(stdio ? [{ name: STDIO_VOLUME, mountPath: STDIO_SOCKET_DIR }] : []),
    ],
  };
}

/**
 * The sidecar's own flags. A Secret's URL reaches it through the environment: the kubelet
 * reads the Secret and expands $(MCPWARDEN_REDIS_URL) in the argument, so the password is
 * never in the pod spec and the operator never reads Secrets.
 */
function redisArgs(redis: SidecarRedis): string[] {
  const url = "url" in redis ? redis.url : `$(${REDIS_URL_ENV})`;
  return [`--redis=${url}`, `--rate-limit-failure-mode=${redis.failureMode}`];
}

/**
 * The OpenTelemetry variables, sorted, with the pod's name and namespace added to the
 * resource attributes (the kubelet expands $(VAR) from the variables defined above).
 */
function tracingEnv(env: Readonly<Record<string, string>> | undefined): { name: string; value: string }[] {
  if (env === undefined || Object.keys(env).length === 0) return [];
  const podAttributes = `k8s.pod.name=$(${POD_NAME_ENV}),k8s.namespace.name=$(${POD_NAMESPACE_ENV})`;
  const given = env["OTEL_RESOURCE_ATTRIBUTES"];
  const all: Record<string, string> = { ...env, OTEL_RESOURCE_ATTRIBUTES: given === undefined || given === "" ? podAttributes : `${podAttributes},${given}` };
  return Object.keys(all)
    .sort()
    .map((name) => ({ name, value: all[name] as string }));
}
