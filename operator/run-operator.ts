// Composition of the operator: caches, catalog, leader election, the reconcile queue,
// the policy stream, the injection webhook and the admin port. close() undoes it in
// reverse order and releases the Lease.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { startOperatorAdminServer, type OperatorAdminServer } from "./admin-server.ts";
import type { ClusterClient, StoreFactory, WatchedStore } from "./cluster.ts";
import { createInjectionHandler, defaultInjectionConfig, type InjectionConfig } from "./injection/index.ts";
import { ApprovalController, createApprovalWebhookHandlers } from "./approvals/index.ts";
import type { McpApprovalObject, McpPolicyObject, NetworkPolicy, Pod } from "./kube-objects.ts";
import { LeaseLeaderElection, type LeaderState } from "./leader/lease-leader-election.ts";
import { OperatorMetrics } from "./metrics/operator-metrics.ts";
import { errorText, type OperatorLogger } from "./operator-logger.ts";
import { PolicyController } from "./policy-controller.ts";
import { EventRecorder } from "./reconcile/event-recorder.ts";
import { PolicyCatalog } from "./reconcile/policy-catalog.ts";
import { PodAnnotationAcks } from "./stream/ack-recorder.ts";
import { PolicyStreamServer } from "./stream/policy-stream-server.ts";
import { TokenReviewAuthenticator, type BoundPod } from "./stream/stream-authenticator.ts";
import type { RequestHandler } from "./http-app.ts";
import { webhookAndStreamRoutes, webhookRoutes } from "./operator-routes.ts";
import { servingCertificate, startTlsServer, type TlsServer } from "./tls-server.ts";
import { loadTracing } from "../tracing/load-tracing.ts";
import { INJECTED_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, TOOL_DEFINITIONS_ANNOTATION } from "./well-known.ts";

export interface OperatorConfig {
  /** The operator's namespace: the Lease lives there, and it is never injected. */
  namespace: string;
  /** This replica's name in the Lease and in events. */
  identity?: string;
  bindAddress: string;
  webhookPort: number;
  /** Equal to webhookPort: one HTTPS server for both. */
  streamPort: number;
  adminPort: number;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Extra DNS names / IPs for the ephemeral certificate. */
  tlsHosts?: string[];
  /** Write the CA of the serving certificate here (useful with the ephemeral one). */
  caOutFile?: string;
  /** The CA sidecars trust (default: the serving certificate's CA). */
  controlPlaneCaFile?: string;
  /** The stream URL sidecars use (default https://mcp-warden.NAMESPACE.svc:STREAMPORT). */
  controlPlaneUrl?: string;
  injection: Partial<Omit<InjectionConfig, "controlPlaneUrl" | "caPem" | "skipNamespaces">> & { image: string };
  leaderElection: { enabled: boolean; leaseName: string; leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  verifyPeerAddress: boolean;
  heartbeatMs?: number;
  resyncMs?: number;
  /** How long decided and expired McpApprovals are kept (`--approval-ttl`). Default 1 h. */
  approvalTtlMs?: number;
  /**
   * On close, how long to keep serving while reporting not Ready (`--shutdown-delay`), so
   * Services stop sending webhook calls and streams here before the listeners close.
   */
  shutdownDelayMs?: number;
  /** The version spans carry (`service.version`). */
  version?: string;
  /** Where the OTEL_* variables are read (tracing is off without them). Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface OperatorCluster {
  client: ClusterClient;
  stores: StoreFactory;
}

export interface RunningOperator {
  readonly webhookPort: number;
  readonly streamPort: number;
  readonly adminPort: number;
  /** The CA sidecars and the API server must trust. */
  readonly caPem: string;
  readonly ephemeralCertificate: boolean;
  readonly metrics: OperatorMetrics;
  readonly leader: LeaderState;
  readonly identity: string;
  /** Resolves once the caches have listed. */
  readonly synced: Promise<void>;
  close(): Promise<void>;
}

export async function runOperator(config: OperatorConfig, cluster: OperatorCluster, logger: OperatorLogger): Promise<RunningOperator> {
  const identity = config.identity ?? `${hostname()}_${randomBytes(4).toString("hex")}`;
  const metrics = new OperatorMetrics();
  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async (): Promise<void> => {
    for (const step of cleanups.reverse()) await step().catch((error: unknown) => logger.error({ err: errorText(error) }, "shutdown step failed"));
    cleanups.length = 0;
  };
  try {
    // First to start, last to stop: the spans of the last reconciles are exported on close.
    const tracing = await loadTracing(config.env ?? process.env, { name: "mcp-warden-operator", version: config.version ?? "unknown" }, logger);
    if (tracing !== undefined) cleanups.push(() => tracing.shutdown());
    const certificate = await servingCertificate({
      certFile: config.tlsCertFile,
      keyFile: config.tlsKeyFile,
      caFile: config.controlPlaneCaFile,
      hosts: [`mcp-warden.${config.namespace}.svc`, `mcp-warden.${config.namespace}.svc.cluster.local`, ...(config.tlsHosts ?? [])],
    });
    if (config.caOutFile !== undefined) writeFileSync(config.caOutFile, certificate.caPem, { mode: 0o644 });
    if (certificate.ephemeral) {
      logger.warn(
        { hosts: certificate.hosts, caFile: config.caOutFile ?? "(not written; pass --ca-out FILE)" },
        "no --tls-cert-file: serving an ephemeral self-signed certificate for development; the API server (webhook caBundle) and sidecars must trust its CA",
      );
    }

    const { client, stores } = cluster;
    const policies: WatchedStore<McpPolicyObject> = stores.watch({ path: "/apis/mcpwarden.dev/v1alpha1/mcppolicies", description: "McpPolicies" });
    const injectedPods: WatchedStore<Pod> = stores.watch({ path: "/api/v1/pods", labelSelector: `${INJECTED_LABEL}=true`, description: "injected pods" });
    const networkPolicies: WatchedStore<NetworkPolicy> = stores.watch({
      path: "/apis/networking.k8s.io/v1/networkpolicies",
      labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
      description: "owned NetworkPolicies",
    });
    const approvalObjects: WatchedStore<McpApprovalObject> = stores.watch({
      path: "/apis/mcpwarden.dev/v1alpha1/mcpapprovals",
      labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
      description: "McpApprovals",
    });
    const catalog = new PolicyCatalog(policies);
    const events = new EventRecorder(client, identity, logger.child({ component: "events" }));

    // The leader callbacks and the pod lookup need the controller, which needs them.
    const late: { controller?: PolicyController; approvals?: ApprovalController; stream?: PolicyStreamServer } = {};
    const leader: LeaderState & { stop?: () => Promise<void> } = config.leaderElection.enabled
      ? new LeaseLeaderElection({
          client,
          namespace: config.namespace,
          name: config.leaderElection.leaseName,
          identity,
          leaseDurationMs: config.leaderElection.leaseDurationMs,
          renewDeadlineMs: config.leaderElection.renewDeadlineMs,
          retryPeriodMs: config.leaderElection.retryPeriodMs,
          onStartedLeading: () => {
            metrics.leader.set(1);
            late.controller?.enqueueAll();
            late.approvals?.resyncAll();
          },
          onStoppedLeading: () => metrics.leader.set(0),
          logger: logger.child({ component: "leader-election" }),
        })
      : { isLeader: true };
    if (!config.leaderElection.enabled) metrics.leader.set(1);

    // Pods from whichever cache has them: injected pods anywhere, or any pod in a policy's namespace.
    const cachedPod = (namespace: string, name: string): Pod | undefined => injectedPods.get(namespace, name) ?? late.controller?.namespaceWatches.pods.get(namespace, name);
    const bundleFor = (pod: BoundPod) => {
      const cached = cachedPod(pod.namespace, pod.name);
      const labels = cached?.metadata?.uid === pod.uid ? cached.metadata.labels : pod.labels;
      if (labels === undefined || !policies.synced) return undefined;
      return catalog.bundleFor(pod.namespace, labels);
    };
    const approvals = new ApprovalController({
      approvals: approvalObjects,
      client,
      leader,
      push: (podUid, event) => late.stream?.sendApproval(podUid, event),
      ...(config.approvalTtlMs === undefined ? {} : { decidedTtlMs: config.approvalTtlMs }),
      logger: logger.child({ component: "approvals" }),
    });
    late.approvals = approvals;
    cleanups.push(async () => approvals.stop());
    const stream = new PolicyStreamServer({
      authenticator: new TokenReviewAuthenticator({ client, cachedPod, verifyPeerAddress: config.verifyPeerAddress, logger: logger.child({ component: "stream-auth" }) }),
      bundleFor,
      acks: new PodAnnotationAcks(client, cachedPod),
      definitions: new PodAnnotationAcks(client, cachedPod, TOOL_DEFINITIONS_ANNOTATION),
      approvals,
      metrics,
      ...(tracing === undefined ? {} : { tracing }),
      heartbeatMs: config.heartbeatMs,
      logger: logger.child({ component: "stream" }),
    });
    late.stream = stream;
    cleanups.push(async () => stream.close());

    const controller = new PolicyController({
      policies,
      injectedPods,
      networkPolicies,
      factory: stores,
      catalog,
      client,
      events,
      metrics,
      leader,
      stream,
      resyncMs: config.resyncMs ?? 5 * 60_000,
      ...(tracing === undefined ? {} : { tracing }),
      logger: logger.child({ component: "controller" }),
    });
    late.controller = controller;
    cleanups.push(() => controller.stop());

    const injection: InjectionConfig = defaultInjectionConfig({
      ...config.injection,
      controlPlaneUrl: config.controlPlaneUrl ?? `https://mcp-warden.${config.namespace}.svc:${config.streamPort}`,
      caPem: certificate.caPem,
      skipNamespaces: ["kube-system", config.namespace],
    });
    const injectionHandler = createInjectionHandler(injection, metrics, logger.child({ component: "injection" }));
    // The pod holding a call is an injected pod; its ServiceAccount may not decide the call.
    const podServiceAccount = (namespace: string, name: string): string | undefined => {
      const pod = injectedPods.get(namespace, name);
      return pod === undefined ? undefined : (pod.spec?.serviceAccountName ?? "default");
    };
    const approvalHandlers = createApprovalWebhookHandlers(podServiceAccount, logger.child({ component: "approvals" }));
    const webhooks = webhookRoutes({ inject: injectionHandler, mutateApproval: approvalHandlers.mutate, validateApproval: approvalHandlers.validate }, logger.child({ component: "webhooks" }));
    const streamRoutes: RequestHandler = (request, response) => stream.handle(request, response);
    let webhookServer: TlsServer;
    let streamServer: TlsServer;
    if (config.webhookPort === config.streamPort) {
      webhookServer = await startTlsServer(certificate, config.bindAddress, config.webhookPort, webhookAndStreamRoutes(webhooks, streamRoutes), logger);
      streamServer = webhookServer;
    } else {
      webhookServer = await startTlsServer(certificate, config.bindAddress, config.webhookPort, webhooks, logger);
      cleanups.push(() => webhookServer.close());
      streamServer = await startTlsServer(certificate, config.bindAddress, config.streamPort, streamRoutes, logger);
    }
    cleanups.push(() => streamServer.close());

    let draining = false;
    const notReadyReason = (): string | undefined => {
      if (draining) return "shutting down";
      const caches = [policies, injectedPods, networkPolicies, approvalObjects];
      const waiting = caches.filter((store) => !store.synced).length;
      return waiting > 0 ? `${waiting} of ${caches.length} caches have not listed yet (are the McpPolicy and McpApproval CRDs installed, and may the operator list them?)` : undefined;
    };
    const admin: OperatorAdminServer = await startOperatorAdminServer({ host: config.bindAddress, port: config.adminPort, metrics, notReadyReason, logger });
    cleanups.push(() => admin.close());

    cleanups.push(() => Promise.all([policies.stop(), injectedPods.stop(), networkPolicies.stop(), approvalObjects.stop()]).then(() => undefined));
    const synced = Promise.all([policies.start(), injectedPods.start(), networkPolicies.start(), approvalObjects.start()]).then(() => {
      logger.info({ policies: policies.list().length, injectedPods: injectedPods.list().length }, "caches listed");
      stream.refresh();
    });
    synced.catch((error: unknown) => logger.error({ err: errorText(error) }, "caches did not start"));
    controller.start();
    if (leader instanceof LeaseLeaderElection) {
      leader.start();
      cleanups.push(() => leader.stop());
    } else {
      void synced.then(() => controller.enqueueAll());
    }

    logger.info(
      {
        identity,
        namespace: config.namespace,
        webhook: `${config.bindAddress || "*"}:${webhookServer.port}`,
        stream: `${config.bindAddress || "*"}:${streamServer.port}`,
        admin: `${config.bindAddress || "*"}:${admin.port}`,
        leaderElection: config.leaderElection.enabled ? `${config.namespace}/${config.leaderElection.leaseName}` : "off",
      },
      "operator started",
    );
    let closed: Promise<void> | undefined;
    return {
      webhookPort: webhookServer.port,
      streamPort: streamServer.port,
      adminPort: admin.port,
      caPem: certificate.caPem,
      ephemeralCertificate: certificate.ephemeral,
      metrics,
      leader,
      identity,
      synced,
      close: () =>
        (closed ??= (async () => {
          const delayMs = config.shutdownDelayMs ?? 0;
          if (delayMs > 0) {
            draining = true;
            logger.info({ delayMs }, "shutting down: not Ready, still serving until Services stop routing here");
            await new Promise((resolve) => setTimeout(resolve, delayMs));
          }
          await cleanUp();
          logger.info("operator stopped");
        })()),
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
