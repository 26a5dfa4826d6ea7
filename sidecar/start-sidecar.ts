// Composition of the standalone sidecar: policy files → snapshot, identity, rate limits,
// metrics + audit log → the MCP proxy on --listen; the admin server on --admin.
// close() is the SIGTERM path: not ready at once, stop accepting, let in-flight calls
// finish (bounded), then release everything.

import { readFileSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { RateLimitAdmitter } from "../policy/index.ts";
import { startAdminServer, type AdminServer } from "./admin-server.ts";
import { ApprovalGate } from "./approvals/approval-gate.ts";
import { LocalApprovalDesk } from "./approvals/local-approval-desk.ts";
import { OperatorApprovalDesk } from "./approvals/operator-approval-desk.ts";
import type { DecisionObserver, IdentityResolver, PolicySnapshot, PolicySource, RequestTracer, ToolDefinitionObserver } from "./contracts.ts";
import { createIdentityResolver } from "./identity/index.ts";
import { AuditLog } from "./observability/audit-log.ts";
import { fanOutDecisions, fanOutToolDefinitions } from "./observability/decision-fan-out.ts";
import { SidecarMetrics } from "./observability/sidecar-metrics.ts";
import { loadSidecarTracing } from "./observability/sidecar-tracing.ts";
import { createSidecarLogger, type LogLevel } from "./observability/sidecar-logger.ts";
import { FilePolicySource } from "./policy-source/index.ts";
import type { OperatorStreamSourceOptions } from "./policy-source/operator-stream-source.ts";
import { DefinitionReport } from "./policy-source/definition-report.ts";
import type { RateLimitFailureMode } from "../protocol/index.ts";
import { setUpRateLimits } from "./start-sidecar-rate-limits.ts";
import type { SidecarTunableValues } from "../protocol/sidecar-tunables.ts";
import { createMcpProxy, type McpProxyOptions } from "./proxy/index.ts";

export interface HostPort {
  host: string;
  port: number;
}

/** Where the operator's stream is and how to trust it (sidecar/policy-source/operator-stream-source.ts). */
export type ControlPlaneSourceOptions = Pick<OperatorStreamSourceOptions, "url" | "tokenFile" | "caPem" | "stateDir">;

/** An HTTP server, a stdio server the sidecar spawns, or one the launcher runs in the server's container (a Unix socket). */
export type SidecarUpstream = { url: string } | { command: string; args: string[]; env?: Record<string, string> } | { socket: string };

export interface SidecarConfig {
  listen: HostPort;
  admin: HostPort;
  upstream: SidecarUpstream;
  /** A policy file or directory (`--policy`). Ignored with controlPlane. */
  policyPath: string;
  /** The operator's policy stream instead of policy files (`--control-plane`). */
  controlPlane?: ControlPlaneSourceOptions;
  redisUrl?: string;
  rateLimitFailureMode?: RateLimitFailureMode;
  logArguments?: boolean;
  logLevel?: LogLevel;
  /** Default: JSON on stdout at logLevel. */
  logger?: Logger;
  /** How long in-flight calls may take to finish on close(). Default 10 s. */
  shutdownGraceMs?: number;
  /** How long a call that needs approval is held (`--approval-hold`). Default 50 s. */
  approvalHoldMs?: number;
  /** How long decided approvals stay listed. Default 1 h. */
  approvalDecidedTtlMs?: number;
  /** Guards the admin API's approvals (`--admin-token-file`); without it they answer loopback only. */
  adminTokenFile?: string;
  /** What was built (cli/build-info.ts), logged at start. */
  build?: { readonly version: string; readonly commit: string; readonly mcpProtocolVersions: readonly string[] };
  /** Caps and timeouts (`--max-request-bytes`, `--upstream-timeout`, …); unset ones take their defaults. */
  tunables?: SidecarTunableValues;
  /** Paths besides the MCP endpoints that are forwarded (`--forward-path`), normalised. */
  forwardPaths?: readonly string[];
  /** Where the OTEL_* variables are read (tracing is off without them). Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** What the sidecar needs from the MCP proxy (sidecar/proxy/). */
export interface McpProxyHandle {
  handler(req: IncomingMessage, res: ServerResponse): void;
  /** The client-facing HTTP server (connection cap and timeouts in place). */
  createServer(): Server;
  close(): Promise<void>;
}

export interface McpProxyParts {
  upstream: SidecarUpstream;
  snapshot(): PolicySnapshot | undefined;
  identity: IdentityResolver;
  limiter: RateLimitAdmitter;
  observer: DecisionObserver;
  /** Metrics, the audit log and, in a cluster, the report to the operator. */
  definitions: ToolDefinitionObserver;
  metrics: SidecarMetrics;
  logArguments: boolean;
  shutdownGraceMs: number;
  logger: Logger;
  /** Holds calls that need approval; undefined: they are refused. */
  approvals?: ApprovalGate;
  tunables: SidecarTunableValues;
  forwardPaths: readonly string[];
  /** Traces each request; undefined: tracing is off. */
  tracer?: RequestTracer;
}

export type McpProxyFactory = (parts: McpProxyParts) => McpProxyHandle;

export interface RunningSidecar {
  readonly listen: HostPort;
  readonly admin: HostPort;
  readonly metrics: SidecarMetrics;
  readonly logger: Logger;
  /** undefined when ready, else why not. */
  notReadyReason(): string | undefined;
  /** Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/** The standalone sidecar with the MCP proxy of sidecar/proxy/. */
export function startSidecar(config: SidecarConfig): Promise<RunningSidecar> {
  return startSidecarWith(config, createSidecarProxy);
}

export const createSidecarProxy: McpProxyFactory = (parts) => {
  const proxy = createMcpProxy({
    upstream: proxyUpstream(parts.upstream),
    snapshot: parts.snapshot,
    identity: parts.identity,
    limiter: parts.limiter,
    observer: parts.observer,
    definitions: parts.definitions,
    timings: parts.metrics,
    logArguments: parts.logArguments,
    shutdownGraceMs: parts.shutdownGraceMs,
    logger: parts.logger,
    ...(parts.approvals === undefined ? {} : { approvals: parts.approvals }),
    ...(parts.tracer === undefined ? {} : { tracer: parts.tracer }),
    ...proxyTunables(parts.tunables),
    forwardPaths: parts.forwardPaths,
  });
  parts.metrics.tools.useUpstreamTools(() => proxy.upstreamTools());
  return proxy;
};

export async function startSidecarWith(config: SidecarConfig, createProxy: McpProxyFactory): Promise<RunningSidecar> {
  const logger = config.logger ?? createSidecarLogger({ level: config.logLevel ?? "info" });
  if (config.build !== undefined) logger.info({ ...config.build }, `mcp-warden sidecar ${config.build.version} starting`);
  const metrics = new SidecarMetrics();
  const shutdownGraceMs = config.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  let snapshot: PolicySnapshot | undefined;
  let closing = false;
  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async (): Promise<void> => {
    for (const step of cleanups.reverse()) await step().catch((error: unknown) => logger.error({ err: String(error) }, "shutdown step failed"));
    cleanups.length = 0;
  };

  try {
    // First to start, last to stop: the spans of the last calls are exported on close.
    const tracing = await loadSidecarTracing(config.env ?? process.env, config.build?.version ?? "unknown", logger);
    if (tracing !== undefined) cleanups.push(() => tracing.shutdown());
    // With the operator, approvals are McpApprovals: asked over the stream's HTTPS, their
    // verdicts pushed on the stream. Standalone, they live in this process (below).
    let operatorApprovals: OperatorApprovalDesk | undefined;
    // The operator's stream client (node:https, so TLS) loads only for a sidecar that has one.
    const operatorStream =
      config.controlPlane === undefined
        ? undefined
        : new (await import("./policy-source/operator-stream-source.ts")).OperatorStreamSource({
            ...config.controlPlane,
            logger,
            onConnectionChange: (connected) => metrics.setControlPlaneConnected(connected),
            onApproval: (event) => {
              if (operatorApprovals?.receive(event) !== true) logger.debug({ approval: event.name }, "a verdict for an approval this sidecar is not waiting for");
            },
          });
    const source: PolicySource =
      operatorStream ??
      new FilePolicySource({ path: config.policyPath, log: logger, onWatchError: (error) => logger.warn({ err: error.message }, "watching the policy failed; re-reading periodically") });
    cleanups.push(() => source.stop());
    await source.start({
      onSnapshot(next) {
        snapshot = next;
        metrics.policyApplied(next);
        logger.info(
          { revision: next.revision, files: next.policies, policies: next.table.policies.map((p) => p.metadata.name), identity: next.table.identity.source },
          "policy loaded",
        );
        for (const conflict of next.table.identityConflicts) logger.warn({ policy: conflict.policy, conflictsWith: conflict.conflictsWith }, conflict.message);
      },
      onLoadError(message) {
        metrics.policyLoadFailed();
        logger.error({ reason: message }, "policy not applied");
      },
    });

    const rateLimits = await setUpRateLimits({ redisUrl: config.redisUrl, failureMode: config.rateLimitFailureMode, metrics, logger });
    cleanups.push(async () => rateLimits.store.close?.());

    const identity = createIdentityResolver({ onKeySetError: (uri, error) => logger.warn({ jwksUri: uri, err: error.message }, "could not fetch the JWT key set; callers are refused") });
    const audit = new AuditLog(logger, { logArguments: config.logArguments ?? false });
    // Standalone approvals live in this process and are decided through the admin API.
    const localApprovals = config.controlPlane === undefined ? new LocalApprovalDesk({ ...(config.approvalDecidedTtlMs === undefined ? {} : { decidedTtlMs: config.approvalDecidedTtlMs }) }) : undefined;
    if (operatorStream !== undefined) operatorApprovals = new OperatorApprovalDesk({ post: (path, body) => operatorStream.post(path, body) });
    const desk = localApprovals ?? operatorApprovals;
    if (desk !== undefined) cleanups.push(async () => desk.close());
    const approvals = desk === undefined ? undefined : new ApprovalGate({ desk, ...(config.approvalHoldMs === undefined ? {} : { holdMs: config.approvalHoldMs }), metrics });
    const observer = fanOutDecisions([metrics, audit], (error) => logger.error({ err: String(error) }, "decision observer failed"));
    const report = operatorStream === undefined ? undefined : new DefinitionReport({ post: (path, body) => operatorStream.post(path, body), logger });
    if (report !== undefined) cleanups.push(async () => report.stop());
    const definitions = fanOutToolDefinitions(report === undefined ? [metrics, audit] : [metrics, audit, report], (error) =>
      logger.error({ err: String(error) }, "tool definition observer failed"),
    );
    const proxy = createProxy({
      upstream: config.upstream,
      snapshot: () => snapshot,
      identity,
      limiter: rateLimits.limiter,
      observer,
      definitions,
      metrics,
      logArguments: config.logArguments ?? false,
      shutdownGraceMs,
      logger,
      ...(approvals === undefined ? {} : { approvals }),
      ...(tracing === undefined ? {} : { tracer: tracing.tracer }),
      tunables: config.tunables ?? {},
      forwardPaths: config.forwardPaths ?? [],
    });
    let proxyClosed: Promise<void> | undefined;
    const closeProxy = (): Promise<void> => (proxyClosed ??= proxy.close());
    cleanups.push(closeProxy);

    const server = proxy.createServer();
    const listen = await listenOn(server, config.listen);
    cleanups.push(() => closeServer(server));

    const notReadyReason = (): string | undefined => {
      if (closing) return "shutting down";
      return snapshot === undefined ? "no policy loaded (see the logs)" : undefined;
    };
    const adminTokenFile = config.adminTokenFile;
    const admin: AdminServer = await startAdminServer({
      ...config.admin,
      metrics: () => metrics.exposition(),
      notReadyReason,
      ...(localApprovals === undefined
        ? {}
        : { approvals: { desk: localApprovals, token: adminTokenFile === undefined ? undefined : () => readFileSync(adminTokenFile, "utf8").trim() } }),
    });
    cleanups.push(() => admin.close());

    logger.info(
      { listen: `${listen.host}:${listen.port}`, admin: `${admin.address.host}:${admin.address.port}`, upstream: describeUpstream(config.upstream), rateLimitStore: rateLimits.description, ready: snapshot !== undefined },
      "sidecar started",
    );

    let closed: Promise<void> | undefined;
    return {
      listen,
      admin: admin.address,
      metrics,
      logger,
      notReadyReason,
      close() {
        closed ??= (async () => {
          closing = true;
          logger.info({ graceMs: shutdownGraceMs }, "stopping: no new connections, finishing calls in flight");
          // Stop accepting first; the proxy then drains what is in flight within its grace.
          const stopped = stopAccepting(server);
          await withDeadline(closeProxy(), shutdownGraceMs + 1_000);
          server.closeAllConnections();
          await stopped;
          // The rest in reverse order of starting: admin port, rate-limit store, policy watch.
          await cleanUp();
          logger.info("stopped");
          await flushLogs(logger);
        })();
        return closed;
      },
    };
  } catch (error) {
    await cleanUp();
    await flushLogs(logger);
    throw error;
  }
}

/** The tunables as the proxy's options (unset ones keep the proxy's defaults). */
function proxyTunables(values: SidecarTunableValues): Pick<McpProxyOptions, "limits" | "clientTimeouts" | "upstreamTimeoutMs" | "sessionIdleTimeoutMs"> {
  return {
    limits: {
      maxBodyBytes: values.maxRequestBytes,
      maxInspectedReplyBytes: values.maxInspectedReplyBytes,
      maxStdioLineBytes: values.maxStdioLineBytes,
      maxPendingServerMessageBytes: values.maxPendingServerMessageBytes,
      maxConnections: values.maxConnections,
      maxSessions: values.maxSessions,
    },
    clientTimeouts: { headerTimeoutMs: values.headerTimeout, bodyTimeoutMs: values.bodyTimeout },
    upstreamTimeoutMs: values.upstreamTimeout,
    sessionIdleTimeoutMs: values.sessionIdleTimeout,
  };
}

function listenOn(server: Server, address: HostPort): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host, () => {
      server.off("error", reject);
      resolve({ host: address.host, port: (server.address() as AddressInfo).port });
    });
  });
}

function stopAccepting(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return stopAccepting(server);
}

async function withDeadline(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Buffered log lines reach stdout before the process exits. */
function flushLogs(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

function proxyUpstream(upstream: SidecarUpstream): McpProxyOptions["upstream"] {
  if ("url" in upstream) return { url: upstream.url };
  if ("socket" in upstream) return { socket: upstream.socket };
  return { command: upstream.command, args: upstream.args, ...(upstream.env === undefined ? {} : { env: upstream.env }) };
}

function describeUpstream(upstream: SidecarUpstream): string {
  if ("url" in upstream) return upstream.url;
  if ("socket" in upstream) return `unix:${upstream.socket} (mcp-warden-launcher)`;
  return [upstream.command, ...upstream.args].join(" ");
}
