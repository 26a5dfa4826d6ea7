// `mcp-warden operator`: the control plane. In a cluster it uses its ServiceAccount;
// outside, $KUBECONFIG (or --kubeconfig). With no flags at all it runs for
// development: an ephemeral self-signed certificate (it says so, and --ca-out writes
// its CA), the Lease in the kubeconfig's namespace. SIGTERM/SIGINT release the Lease,
// close the streams and exit 0; a second signal exits at once with 1.
import { type Command, InvalidArgumentError, Option } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { load } from "js-yaml";
import { createOperatorLogger, errorText } from "../operator/operator-logger.ts";
import type { OperatorConfig, RunningOperator } from "../operator/run-operator.ts";
import type { SidecarResources } from "../operator/injection/index.ts";
import { RATE_LIMIT_FAILURE_MODES } from "../protocol/index.ts";
import { sidecarOtelFromFlags } from "./operator-tracing-flags.ts";
import { buildInfo } from "./build-info.ts";
import { sidecarRedisFromFlags, type SidecarRedisFlags } from "./operator-redis-flags.ts";
import { addSidecarSettingOptions, sidecarSettingsFromFlags } from "./operator-sidecar-settings.ts";

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;

interface OperatorFlags extends SidecarRedisFlags {
  sidecarOtel: string[];
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  identity?: string;
  bindAddress: string;
  webhookPort: number;
  streamPort: number;
  adminPort: number;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  tlsSan: string[];
  caOut?: string;
  controlPlaneUrl?: string;
  controlPlaneCaFile?: string;
  sidecarImage?: string;
  sidecarImagePullPolicy: (typeof PULL_POLICIES)[number];
  sidecarResources?: SidecarResources;
  sidecarLogLevel: string;
  leaderElect: boolean;
  leaseName: string;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  verifyPeerAddress: boolean;
  resyncPeriod: number;
  approvalTtl: number;
  shutdownDelay: number;
  logLevel: string;
}

function port(value: string): number {
  const number = Number(value);
  if (!/^\d{1,5}$/.test(value) || number > 65535) throw new InvalidArgumentError("must be a port number from 0 to 65535");
  return number;
}

function seconds(value: string): number {
  const number = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || number <= 0 || number > 86_400) throw new InvalidArgumentError("must be a number of seconds");
  return number;
}

function resources(value: string): SidecarResources {
  let parsed: unknown;
  try {
    parsed = load(value);
  } catch (error) {
    throw new InvalidArgumentError(`must be YAML or JSON: ${errorText(error)}`);
  }
  const ok =
    typeof parsed === "object" &&
    parsed !== null &&
    Object.entries(parsed).every(
      ([key, inner]) => (key === "requests" || key === "limits") && typeof inner === "object" && inner !== null && Object.values(inner).every((v) => typeof v === "string"),
    );
  if (!ok) throw new InvalidArgumentError('must look like {"requests": {"cpu": "50m"}, "limits": {"memory": "256Mi"}}');
  return parsed as SidecarResources;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

export function registerOperatorCommand(program: Command): void {
  const command = program
    .command("operator")
    .description("run the control plane: reconcile McpPolicies, stream bundles to sidecars, inject them")
    .option("--kubeconfig <file>", "kubeconfig to use (default: $KUBECONFIG, the in-cluster ServiceAccount, ~/.kube/config)")
    .option("--context <name>", "kubeconfig context")
    .option("--namespace <name>", "the operator's namespace: holds the leader Lease, never injected (default: the in-cluster or kubeconfig namespace, else default)")
    .option("--identity <name>", "this replica's name in the Lease (default: hostname and a random suffix)")
    .option("--bind-address <host>", "address the servers listen on (empty: all)", "")
    .option("--webhook-port <port>", "HTTPS: the injection webhook (/v1/inject)", port, 9443)
    .option("--stream-port <port>", "HTTPS: the policy stream (/v1/stream, /v1/ack); the webhook port serves both when equal", port, 9444)
    .option("--admin-port <port>", "HTTP: /metrics, /healthz, /readyz", port, 9465)
    .option("--tls-cert-file <file>", "serving certificate (PEM); re-read when it changes")
    .option("--tls-key-file <file>", "its private key (PEM)")
    .option("--tls-san <host>", "without TLS files: another DNS name or IP for the ephemeral certificate (repeatable)", collect, [])
    .option("--ca-out <file>", "write the CA of the serving certificate here")
    .option("--control-plane-url <url>", "the stream URL injected sidecars use (default https://mcp-warden.NAMESPACE.svc:STREAM-PORT)")
    .option("--control-plane-ca-file <file>", "the CA injected sidecars trust (default: the serving certificate's CA)")
    .option("--sidecar-image <image>", "the image of injected sidecars (default localhost/mcp-warden/sidecar:VERSION, the name make images gives it)")
    .addOption(new Option("--sidecar-image-pull-policy <policy>", "imagePullPolicy of injected sidecars").choices(PULL_POLICIES).default("IfNotPresent"))
    .option("--sidecar-resources <yaml>", "resources of injected sidecars, YAML or JSON", resources)
    .addOption(new Option("--sidecar-log-level <level>", "log level of injected sidecars").choices(LOG_LEVELS).default("info"))
    .option("--sidecar-redis-url <url>", "injected sidecars share rate limits in this Redis (redis:// or rediss://, no credentials: it is in the pod spec)")
    .option("--sidecar-redis-secret <name/key>", "instead of --sidecar-redis-url: a Secret in each injected pod's namespace holding the URL (the kubelet reads it, not the operator)")
    .option("--sidecar-otel <name=value>", "an OpenTelemetry variable injected sidecars get (OTEL_EXPORTER_OTLP_ENDPOINT=…, repeatable); none: they export no traces", collect, [])
    .addOption(new Option("--sidecar-rate-limit-failure-mode <mode>", "with a Redis: what decides while it is unreachable (default local)").choices(RATE_LIMIT_FAILURE_MODES))
    .option("--no-leader-elect", "act as the leader without a Lease (one replica only)")
    .option("--lease-name <name>", "the leader Lease", "mcp-warden-operator")
    .option("--lease-duration <seconds>", "how long a Lease holder is trusted without renewing", seconds, 15)
    .option("--renew-deadline <seconds>", "a leader that cannot renew this long steps down", seconds, 10)
    .option("--retry-period <seconds>", "how often candidates and the leader try the Lease", seconds, 2)
    .option("--no-verify-peer-address", "accept a pod's token from any address, not only the pod's IP (behind a proxy that hides it)")
    .option("--resync-period <seconds>", "reconcile every policy this often as well", seconds, 300)
    .option("--approval-ttl <seconds>", "delete decided and expired McpApprovals this long after they settle", seconds, 3600)
    .option("--shutdown-delay <seconds>", "on SIGTERM keep serving this long, not Ready, before closing (Services stop routing to this replica first)", seconds, 0)
    .addOption(new Option("--log-level <level>", "log level").choices(LOG_LEVELS).default("info"));
  addSidecarSettingOptions(command).action(async (flags: OperatorFlags, command: Command) => {
      if ((flags.tlsCertFile === undefined) !== (flags.tlsKeyFile === undefined)) {
        command.error("error: give both --tls-cert-file and --tls-key-file, or neither", { exitCode: 2 });
      }
      for (const file of [flags.tlsCertFile, flags.tlsKeyFile, flags.controlPlaneCaFile, flags.kubeconfig]) {
        if (file !== undefined && !existsSync(file)) command.error(`error: ${file}: no such file`, { exitCode: 2 });
      }
      if (flags.renewDeadline >= flags.leaseDuration) command.error("error: --renew-deadline must be shorter than --lease-duration", { exitCode: 2 });
      const redis = sidecarRedisFromFlags(flags);
      if (!redis.ok) return command.error(`error: ${redis.message}`, { exitCode: 2 });
      const settings = sidecarSettingsFromFlags(flags as unknown as Record<string, unknown>);
      if (!settings.ok) return command.error(`error: ${settings.message}`, { exitCode: 2 });
      const otel = sidecarOtelFromFlags(flags.sidecarOtel);
      if (!otel.ok) return command.error(`error: ${otel.message}`, { exitCode: 2 });
      const logger = createOperatorLogger(flags.logLevel);
      const build = buildInfo();
      logger.info({ ...build }, `mcp-warden operator ${build.version} starting`);
      let running: RunningOperator;
      try {
        // Loaded here, not at start-up: every other command (the sidecar above all) would
        // otherwise carry the Kubernetes client and the operator in memory (~58 MB).
        const { connectToCluster } = await import("../operator/k8s/index.ts");
        const { runOperator } = await import("../operator/run-operator.ts");
        const connection = connectToCluster({ kubeconfig: flags.kubeconfig, context: flags.context, fieldManager: "mcp-warden-operator", logger });
        const namespace = flags.namespace ?? process.env.POD_NAMESPACE ?? (existsSync(SERVICE_ACCOUNT_NAMESPACE) ? readFileSync(SERVICE_ACCOUNT_NAMESPACE, "utf8").trim() : undefined) ?? connection.namespace ?? "default";
        logger.info({ server: connection.server, from: connection.source, namespace }, "connecting to the cluster");
        const config: OperatorConfig = {
          namespace,
          version: build.version,
          identity: flags.identity,
          bindAddress: flags.bindAddress,
          webhookPort: flags.webhookPort,
          streamPort: flags.streamPort,
          adminPort: flags.adminPort,
          tlsCertFile: flags.tlsCertFile,
          tlsKeyFile: flags.tlsKeyFile,
          tlsHosts: flags.tlsSan,
          caOutFile: flags.caOut,
          controlPlaneUrl: flags.controlPlaneUrl,
          controlPlaneCaFile: flags.controlPlaneCaFile,
          injection: {
            image: flags.sidecarImage ?? `localhost/mcp-warden/sidecar:${build.version}`,
            imagePullPolicy: flags.sidecarImagePullPolicy,
            logLevel: flags.sidecarLogLevel,
            ...(flags.sidecarResources === undefined ? {} : { resources: flags.sidecarResources }),
            ...(redis.redis === undefined ? {} : { redis: redis.redis }),
            ...(Object.keys(otel.env).length === 0 ? {} : { tracingEnv: otel.env }),
            sidecarTunables: settings.tunables,
            forwardPaths: settings.forwardPaths,
          },
          leaderElection: {
            enabled: flags.leaderElect,
            leaseName: flags.leaseName,
            leaseDurationMs: flags.leaseDuration * 1000,
            renewDeadlineMs: flags.renewDeadline * 1000,
            retryPeriodMs: flags.retryPeriod * 1000,
          },
          verifyPeerAddress: flags.verifyPeerAddress,
          resyncMs: flags.resyncPeriod * 1000,
          approvalTtlMs: flags.approvalTtl * 1000,
          shutdownDelayMs: flags.shutdownDelay * 1000,
        };
        running = await runOperator(config, connection, logger);
      } catch (error) {
        logger.fatal({ err: errorText(error) }, "the operator could not start");
        logger.flush();
        process.exitCode = 1;
        return;
      }
      // Nothing crashes the process: a stray rejection is logged, not fatal.
      process.on("unhandledRejection", (reason) => logger.error({ err: errorText(reason) }, "unhandled rejection"));
      process.on("uncaughtException", (error) => logger.error({ err: errorText(error), stack: error.stack }, "uncaught exception"));
      let stopping = false;
      const stop = (): void => {
        if (stopping) process.exit(1);
        stopping = true;
        running.close().then(
          () => {
            logger.flush();
            process.exit(0);
          },
          (error: unknown) => {
            logger.error({ err: errorText(error) }, "stopping failed");
            logger.flush();
            process.exit(1);
          },
        );
      };
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    });
}
