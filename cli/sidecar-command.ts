// `mcp-warden sidecar`: the standalone sidecar. Flags are checked before anything starts:
// a bad one is a one-line error and exit 2. SIGTERM and SIGINT stop accepting, let calls
// in flight finish (bounded), and exit 0; a second signal exits at once with 1.

import { type Command, Option } from "commander";
import { readFileSync, statSync } from "node:fs";
import { isLogLevel, LOG_LEVELS } from "../sidecar/observability/sidecar-logger.ts";
import { CA_PEM_ENV, CONTROL_PLANE_ENV, RATE_LIMIT_FAILURE_MODES, TOKEN_AUDIENCE, TOKEN_FILE, type RateLimitFailureMode } from "../protocol/index.ts";
import type { ControlPlaneSourceOptions, HostPort, RunningSidecar, SidecarConfig, SidecarUpstream } from "../sidecar/start-sidecar.ts";
import { FORWARD_PATH_FLAG, readTunable, SIDECAR_TUNABLE_NAMES, SIDECAR_TUNABLES, writeTunable, type SidecarTunableName } from "../protocol/sidecar-tunables.ts";
import { normaliseForwardPrefix } from "../protocol/request-paths.ts";
import { splitShellWords } from "../protocol/shell-words.ts";
import { buildInfo } from "./build-info.ts";

export interface SidecarFlags {
  listen: string;
  admin: string;
  upstream?: string;
  upstreamCommand?: string;
  upstreamSocket?: string;
  policy?: string;
  controlPlane?: string;
  tokenFile?: string;
  controlPlaneCa?: string;
  stateDir?: string;
  redis?: string;
  rateLimitFailureMode: string;
  logArguments?: boolean;
  logLevel: string;
  shutdownGrace: string;
  approvalHold: string;
  approvalTtl: string;
  adminTokenFile?: string;
  forwardPath?: string[];
  /** The caps and timeouts, by flag name without dashes (commander's camelCase). */
  [tunable: string]: unknown;
}

/** What `policy pin` can reach too: not the launcher's socket, which only a pod's sidecar uses. */
export type HttpOrSpawnedUpstream = Exclude<SidecarUpstream, { socket: string }>;

export type SidecarFlagsRead = { ok: true; config: SidecarConfig } | { ok: false; message: string };

/** The flags as a SidecarConfig, or the first thing wrong with them. */
/** `--upstream URL` or `--upstream-command CMD`, exactly one (the sidecar's and `policy pin`'s). */
export function upstreamFromFlags(flags: { upstream?: string | undefined; upstreamCommand?: string | undefined }): { ok: true; value: HttpOrSpawnedUpstream } | { ok: false; message: string } {
  if ((flags.upstream === undefined) === (flags.upstreamCommand === undefined)) {
    return { ok: false, message: "give exactly one of --upstream URL and --upstream-command CMD" };
  }
  if (flags.upstream !== undefined) {
    const url = URL.parse(flags.upstream);
    if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
      return { ok: false, message: `--upstream must be an http:// or https:// URL, got ${JSON.stringify(flags.upstream)}` };
    }
    return { ok: true, value: { url: url.href } };
  }
  const words = splitShellWords(flags.upstreamCommand as string);
  if (!words.ok) return { ok: false, message: `--upstream-command ${words.message}` };
  const [command, ...args] = words.words as [string, ...string[]];
  return { ok: true, value: { command, args } };
}

/** The sidecar's upstream: one of --upstream, --upstream-command and --upstream-socket. */
function sidecarUpstreamFromFlags(flags: SidecarFlags): { ok: true; value: SidecarUpstream } | { ok: false; message: string } {
  const given = [flags.upstream, flags.upstreamCommand, flags.upstreamSocket].filter((flag) => flag !== undefined).length;
  if (given !== 1) return { ok: false, message: "give exactly one of --upstream URL, --upstream-command CMD and --upstream-socket PATH" };
  if (flags.upstreamSocket === undefined) return upstreamFromFlags(flags);
  if (!flags.upstreamSocket.startsWith("/")) return { ok: false, message: `--upstream-socket must be an absolute path to mcp-warden-launcher's Unix socket, got ${JSON.stringify(flags.upstreamSocket)}` };
  return { ok: true, value: { socket: flags.upstreamSocket } };
}

export function sidecarConfigFromFlags(flags: SidecarFlags): SidecarFlagsRead {
  const listen = hostPort(flags.listen, "--listen");
  if (!listen.ok) return listen;
  const admin = hostPort(flags.admin, "--admin");
  if (!admin.ok) return admin;
  if (admin.value.port !== 0 && admin.value.port === listen.value.port && admin.value.host === listen.value.host) {
    return { ok: false, message: "--admin must differ from --listen" };
  }

  const upstreamRead = sidecarUpstreamFromFlags(flags);
  if (!upstreamRead.ok) return upstreamRead;
  const upstream = upstreamRead.value;

  const controlPlane = controlPlaneFromFlags(flags);
  if (!controlPlane.ok) return controlPlane;
  if (controlPlane.value === undefined) {
    try {
      statSync(flags.policy as string);
    } catch {
      return { ok: false, message: `--policy ${flags.policy}: no such file or directory` };
    }
  }

  if (flags.redis !== undefined) {
    const url = URL.parse(flags.redis);
    if (url === null || (url.protocol !== "redis:" && url.protocol !== "rediss:")) {
      return { ok: false, message: `--redis must be a redis:// or rediss:// URL` };
    }
  }
  if (!(RATE_LIMIT_FAILURE_MODES as readonly string[]).includes(flags.rateLimitFailureMode)) {
    return { ok: false, message: `--rate-limit-failure-mode must be one of ${RATE_LIMIT_FAILURE_MODES.join(", ")}` };
  }
  if (!isLogLevel(flags.logLevel)) return { ok: false, message: `--log-level must be one of ${LOG_LEVELS.join(", ")}` };
  const graceSeconds = Number(flags.shutdownGrace);
  if (!/^\d+(\.\d+)?$/.test(flags.shutdownGrace) || graceSeconds > 3600) {
    return { ok: false, message: "--shutdown-grace must be a number of seconds from 0 to 3600" };
  }

  const holdSeconds = Number(flags.approvalHold);
  if (!/^\d+(\.\d+)?$/.test(flags.approvalHold) || holdSeconds <= 0 || holdSeconds > 3600) {
    return { ok: false, message: "--approval-hold must be a number of seconds above 0, at most 3600" };
  }
  const ttlSeconds = Number(flags.approvalTtl);
  if (!/^\d+$/.test(flags.approvalTtl) || ttlSeconds < 1 || ttlSeconds > 7 * 86400) {
    return { ok: false, message: "--approval-ttl must be a whole number of seconds from 1 to 604800" };
  }
  if (flags.adminTokenFile !== undefined) {
    let token = "";
    try {
      token = readFileSync(flags.adminTokenFile, "utf8").trim();
    } catch {
      return { ok: false, message: `--admin-token-file ${flags.adminTokenFile}: cannot be read` };
    }
    if (token === "") return { ok: false, message: `--admin-token-file ${flags.adminTokenFile}: is empty` };
  }

  const tunables: { -readonly [name in SidecarTunableName]?: number } = {};
  for (const name of SIDECAR_TUNABLE_NAMES) {
    const written = flags[name];
    if (written === undefined) continue;
    const read = readTunable(SIDECAR_TUNABLES[name], String(written));
    if (!read.ok) return read;
    tunables[name] = read.value;
  }
  const forwardPaths: string[] = [];
  for (const written of flags.forwardPath ?? []) {
    const read = normaliseForwardPrefix(written);
    if (!read.ok) return { ok: false, message: `${FORWARD_PATH_FLAG} ${read.message}` };
    forwardPaths.push(read.prefix);
  }
  if (forwardPaths.length > 0 && !("url" in upstream)) {
    return { ok: false, message: `${FORWARD_PATH_FLAG} needs --upstream URL: a stdio server (--upstream-command, --upstream-socket) has no other paths to forward` };
  }

  return {
    ok: true,
    config: {
      tunables,
      forwardPaths,
      listen: listen.value,
      admin: admin.value,
      upstream,
      policyPath: flags.policy ?? "",
      ...(controlPlane.value === undefined ? {} : { controlPlane: controlPlane.value }),
      ...(flags.redis === undefined ? {} : { redisUrl: flags.redis }),
      rateLimitFailureMode: flags.rateLimitFailureMode as RateLimitFailureMode,
      logArguments: flags.logArguments ?? false,
      logLevel: flags.logLevel,
      shutdownGraceMs: Math.round(graceSeconds * 1000),
      approvalHoldMs: Math.round(holdSeconds * 1000),
      approvalDecidedTtlMs: ttlSeconds * 1000,
      ...(flags.adminTokenFile === undefined ? {} : { adminTokenFile: flags.adminTokenFile }),
    },
  };
}

/** --control-plane and its companions (the operator's policy stream), or undefined for --policy. */
function controlPlaneFromFlags(flags: SidecarFlags): { ok: true; value: ControlPlaneSourceOptions | undefined } | { ok: false; message: string } {
  if ((flags.policy === undefined) === (flags.controlPlane === undefined)) {
    return { ok: false, message: "give exactly one of --policy PATH (files) and --control-plane URL (the operator)" };
  }
  if (flags.controlPlane === undefined) return { ok: true, value: undefined };
  const url = URL.parse(flags.controlPlane);
  if (url === null || url.protocol !== "https:") return { ok: false, message: `--control-plane must be an https:// URL, got ${JSON.stringify(flags.controlPlane)}` };
  let caPem = process.env[CA_PEM_ENV] ?? "";
  if (flags.controlPlaneCa !== undefined) {
    try {
      caPem = readFileSync(flags.controlPlaneCa, "utf8");
    } catch {
      return { ok: false, message: `--control-plane-ca ${flags.controlPlaneCa}: cannot be read` };
    }
  }
  if (!caPem.includes("-----BEGIN CERTIFICATE-----")) {
    return { ok: false, message: `--control-plane needs the operator's CA: --control-plane-ca FILE (PEM) or $${CA_PEM_ENV}` };
  }
  return { ok: true, value: { url: url.href, tokenFile: flags.tokenFile ?? TOKEN_FILE, caPem, ...(flags.stateDir === undefined ? {} : { stateDir: flags.stateDir }) } };
}

/** `127.0.0.1:9000`, `[::1]:9000`, `:9000` (all interfaces). */
function hostPort(text: string, flag: string): { ok: true; value: HostPort } | { ok: false; message: string } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (match === null || port > 65535) return { ok: false, message: `${flag} must be HOST:PORT (e.g. 127.0.0.1:9000), got ${JSON.stringify(text)}` };
  const host = match[1] ?? (match[2] === "" ? "0.0.0.0" : (match[2] as string));
  return { ok: true, value: { host, port } };
}

export type StartSidecar = (config: SidecarConfig) => Promise<RunningSidecar>;

/** Loaded when the command runs, so other commands (and --help) do not load the proxy. */
const startSidecar: StartSidecar = async (config) => (await import("../sidecar/start-sidecar.ts")).startSidecar(config);

export interface SidecarProcess {
  /** Called on SIGTERM/SIGINT handlers' registration; tests pass their own. */
  onSignal(signal: "SIGTERM" | "SIGINT", handler: () => void): void;
  exit(code: number): void;
  stderr(line: string): void;
}

const realProcess: SidecarProcess = {
  onSignal: (signal, handler) => void process.on(signal, handler),
  exit: (code) => process.exit(code),
  stderr: (line) => void process.stderr.write(`${line}\n`),
};

export function registerSidecarCommand(program: Command, start: StartSidecar = startSidecar, proc: SidecarProcess = realProcess): void {
  const command = program
    .command("sidecar")
    .description("run the policy proxy in front of one MCP server, with policies from files")
    // A bad flag is exactly one line (issue 4): a sidecar's log is read by machines.
    .showHelpAfterError(false)
    .option("--listen <host:port>", "where MCP clients connect", "127.0.0.1:9000")
    .option("--admin <host:port>", "/metrics, /healthz and /readyz", "127.0.0.1:9464")
    .option("--upstream <url>", "the MCP server's Streamable HTTP endpoint, e.g. http://127.0.0.1:8080/mcp")
    .option("--upstream-command <command>", 'a stdio MCP server to spawn per session, e.g. "npx -y @modelcontextprotocol/server-everything" (split like a shell would, never run by one)')
    .option("--upstream-socket <path>", "a stdio MCP server run per session by mcp-warden-launcher (the pod's server container, injected for mcpwarden.dev/upstream-transport: stdio): its Unix socket")
    .option("--policy <path>", "an McpPolicy YAML / PolicyLayer JSON file, or a directory of them (watched)")
    .addOption(new Option("--control-plane <url>", "instead of --policy: the operator's policy stream (https://…)").env(CONTROL_PLANE_ENV))
    .option("--token-file <file>", `with --control-plane: the pod's projected token (audience ${TOKEN_AUDIENCE}), re-read at every connect`, TOKEN_FILE)
    .option("--control-plane-ca <file>", `with --control-plane: the CA to trust (default: the PEM in $${CA_PEM_ENV})`)
    .option("--state-dir <dir>", "with --control-plane: keep the last good bundle here and start from it")
    .option("--redis <url>", "share rate-limit budgets across replicas in Redis (redis://host:6379)")
    .addOption(new Option("--rate-limit-failure-mode <mode>", "with --redis: what decides while Redis is unreachable").choices(RATE_LIMIT_FAILURE_MODES).default("local"))
    .option("--log-arguments", "put tool call arguments in the audit log (they may hold secrets)")
    .addOption(new Option("--log-level <level>", "log level").choices(LOG_LEVELS).default("info"))
    .option("--shutdown-grace <seconds>", "on SIGTERM, how long calls in flight may take to finish", "10")
    .option("--approval-hold <seconds>", "how long a call that needs approval waits before the agent is told to retry", "50")
    .option("--approval-ttl <seconds>", "how long decided approvals stay listed", "3600")
    .option("--admin-token-file <file>", "with --policy: the admin API decides approvals only for this bearer token (default: loopback callers only)")
    .option(
      `${FORWARD_PATH_FLAG} <prefix>`,
      "forward this path (whole segments: /api matches /api and /api/x) besides the MCP endpoints; JSON-RPC sent there is still decided (repeatable)",
      (value: string, previous: string[] = []) => [...previous, value],
    );
  for (const name of SIDECAR_TUNABLE_NAMES) {
    const tunable = SIDECAR_TUNABLES[name];
    const placeholder = tunable.kind === "bytes" ? "<size>" : tunable.kind === "count" ? "<n>" : "<duration>";
    command.option(`${tunable.flag} ${placeholder}`, `${tunable.description} (default ${writeTunable(tunable, tunable.defaultValue)})`);
  }
  command
    .action(async (flags: SidecarFlags, command: Command) => {
      const read = sidecarConfigFromFlags(flags);
      if (!read.ok) command.error(`error: ${read.message}`, { exitCode: 2, code: "mcp-warden.sidecar.flags" });
      const config = (read as { ok: true; config: SidecarConfig }).config;
      let running: RunningSidecar;
      try {
        running = await start({ ...config, build: buildInfo() });
      } catch (error) {
        proc.stderr(`mcp-warden sidecar: ${error instanceof Error ? error.message : String(error)}`);
        return proc.exit(1);
      }
      let stopping = false;
      const stop = (): void => {
        if (stopping) return proc.exit(1);
        stopping = true;
        running.close().then(
          () => proc.exit(0),
          (error: unknown) => {
            proc.stderr(`mcp-warden sidecar: stopping failed: ${String(error)}`);
            proc.exit(1);
          },
        );
      };
      proc.onSignal("SIGTERM", stop);
      proc.onSignal("SIGINT", stop);
    });
}
