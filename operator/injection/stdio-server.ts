// A pod whose MCP server speaks stdio (mcpwarden.dev/upstream-transport: stdio; ADR 12):
// an init container from the sidecar image copies mcp-warden-launcher into a volume, the
// server container's command becomes `launcher --socket S -- <its command>`, and the
// sidecar reaches the launcher's socket through a second volume both containers mount.
// Each connection from the sidecar is one server process, started by the launcher inside
// the server's own container (its image, user, environment, limits and log).
import { LAUNCHER_DIR, LAUNCHER_IMAGE_PATH, LAUNCHER_PATH, STDIO_SOCKET_DIR, STDIO_SOCKET_PATH } from "../../protocol/index.ts";
import { splitShellWords } from "../../protocol/shell-words.ts";
import type { Container, Pod } from "../kube-objects.ts";
import { LAUNCHER_CONTAINER_NAME, UPSTREAM_COMMAND_ANNOTATION, UPSTREAM_CONTAINER_ANNOTATION, UPSTREAM_PORT_ANNOTATION, UPSTREAM_TRANSPORT_ANNOTATION } from "../well-known.ts";
import { restrictedSecurityContext, type InjectionConfig } from "./injection-config.ts";

const LAUNCHER_VOLUME = "mcp-warden-launcher";
export const STDIO_VOLUME = "mcp-warden-stdio";

export type UpstreamTransport = { ok: true; transport: "http" | "stdio" } | { ok: false; message: string };

export function upstreamTransport(pod: Pod): UpstreamTransport {
  const written = pod.metadata?.annotations?.[UPSTREAM_TRANSPORT_ANNOTATION];
  if (written === undefined || written === "http") return { ok: true, transport: "http" };
  if (written === "stdio") return { ok: true, transport: "stdio" };
  return {
    ok: false,
    message: `${UPSTREAM_TRANSPORT_ANNOTATION} is ${JSON.stringify(written)}: it must be http (the MCP server listens on the port ${UPSTREAM_PORT_ANNOTATION} names) or stdio (the server speaks MCP on stdin and stdout)`,
  };
}

/** The server container and the command line the launcher runs for each session. */
export type StdioServerPlan = { ok: true; container: string; command: string[] } | { ok: false; message: string };

export function planStdioServer(pod: Pod): StdioServerPlan {
  const annotations = pod.metadata?.annotations ?? {};
  if (annotations[UPSTREAM_PORT_ANNOTATION] !== undefined) {
    return { ok: false, message: `${UPSTREAM_TRANSPORT_ANNOTATION} is stdio, but ${UPSTREAM_PORT_ANNOTATION} names an HTTP port: a stdio server has none; remove one of the two` };
  }
  const containers = pod.spec?.containers ?? [];
  const named = annotations[UPSTREAM_CONTAINER_ANNOTATION];
  let container: Container | undefined;
  if (named !== undefined) {
    container = containers.find((candidate) => candidate.name === named);
    if (container === undefined) {
      return { ok: false, message: `${UPSTREAM_CONTAINER_ANNOTATION} is ${JSON.stringify(named)}, which is not one of the pod's containers (${containers.map((c) => c.name).join(", ")})` };
    }
  } else if (containers.length === 1) {
    container = containers[0];
  } else {
    return { ok: false, message: `the pod has ${containers.length} containers; name the one that runs the stdio MCP server with ${UPSTREAM_CONTAINER_ANNOTATION}` };
  }
  const server = container as Container;
  const own = stringList(server["command"]);
  const args = stringList(server["args"]);
  const written = annotations[UPSTREAM_COMMAND_ANNOTATION];
  if (written === undefined) {
    if (own === undefined || own.length === 0) {
      return {
        ok: false,
        message:
          `cannot tell which command container ${server.name} runs: it has no command, so its image's ENTRYPOINT runs, which the pod spec does not show. ` +
          `Set the annotation ${UPSTREAM_COMMAND_ANNOTATION} to the server's whole command line (e.g. "mockloop-mcp --stdio"), or give the container a command`,
      };
    }
    return { ok: true, container: server.name, command: [...own, ...(args ?? [])] };
  }
  if (own !== undefined || args !== undefined) {
    return {
      ok: false,
      message: `${UPSTREAM_COMMAND_ANNOTATION} is the server's whole command line, but container ${server.name} also has ${own !== undefined ? "a command" : "args"}: give the command in one place`,
    };
  }
  const words = splitShellWords(written);
  if (!words.ok) return { ok: false, message: `${UPSTREAM_COMMAND_ANNOTATION} ${words.message}` };
  return { ok: true, container: server.name, command: words.words };
}

/** Puts the launcher in front of the planned container of `pod` (a copy being injected). */
export function putLauncherInFront(pod: Pod, plan: Extract<StdioServerPlan, { ok: true }>, config: InjectionConfig): void {
  const spec = (pod.spec ??= {});
  const server = (spec.containers ?? []).find((container) => container.name === plan.container) as Container;
  server["command"] = [LAUNCHER_PATH, "--socket", STDIO_SOCKET_PATH, "--", ...plan.command];
  delete server["args"];
  server["volumeMounts"] = [
    ...((server["volumeMounts"] as unknown[] | undefined) ?? []),
    { name: LAUNCHER_VOLUME, mountPath: LAUNCHER_DIR, readOnly: true },
    { name: STDIO_VOLUME, mountPath: STDIO_SOCKET_DIR },
  ];
  spec.volumes = [...(spec.volumes ?? []), { name: LAUNCHER_VOLUME, emptyDir: { sizeLimit: "8Mi" } }, { name: STDIO_VOLUME, emptyDir: { sizeLimit: "1Mi" } }];
  // After the sidecar (which the injector puts first), before the pod's own init containers.
  const [sidecar, ...rest] = spec.initContainers ?? [];
  spec.initContainers = [...(sidecar === undefined ? [] : [sidecar]), installerContainer(config), ...rest];
}

function installerContainer(config: InjectionConfig): Container {
  return {
    name: LAUNCHER_CONTAINER_NAME,
    image: config.image,
    imagePullPolicy: config.imagePullPolicy,
    command: [LAUNCHER_IMAGE_PATH, "--install", LAUNCHER_PATH],
    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
    securityContext: restrictedSecurityContext(config),
    volumeMounts: [{ name: LAUNCHER_VOLUME, mountPath: LAUNCHER_DIR }],
  };
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === "string") ? (value as string[]) : undefined;
}
