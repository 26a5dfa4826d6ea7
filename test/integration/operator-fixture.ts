// What the operator's integration tests share: the operator as a real process (from
// source, out of cluster) under exactly the ClusterRole the chart ships, a certificate
// for its HTTPS ports, the injection webhook registered with the API server, pods
// "running" (IP set through the status subresource), tokens from TokenRequest, and a
// simulated sidecar that speaks the stream protocol.
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, mkdtempSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { load } from "js-yaml";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { applyCrds, controlPlane, createNamespace, kubeconfigFor, kubectl, kubectlOk, repoRoot, run } from "../harness/index.ts";
import { freePort } from "../harness/free-port.ts";
import { ManagedProcess } from "../harness/managed-process.ts";
import { createCertificateAuthority, issueCertificate } from "../../operator/tls/certificates.ts";
import { injectionWebhookConfiguration } from "../../operator/injection/index.ts";

export const CLUSTER_ROLE_FILE = join(repoRoot(), "charts", "mcp-warden", "files", "operator-clusterrole.yaml");

export interface OperatorEnvironment {
  /** The operator's namespace (its Lease). */
  namespace: string;
  /** A user bound to the ClusterRole file and nothing else. */
  kubeconfig: string;
  user: string;
  dir: string;
  caPem: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export async function operatorEnvironment(prefix: string): Promise<OperatorEnvironment> {
  await applyCrds();
  await kubectlOk(["apply", "--server-side", "--force-conflicts", "--field-manager=mcp-warden-tests", "-f", CLUSTER_ROLE_FILE]);
  const user = `mcp-warden-operator-${prefix}`;
  const binding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: user },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "mcp-warden-operator" },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user }],
  };
  await kubectlOk(["apply", "--server-side", "--field-manager=mcp-warden-tests", "-f", "-"], { input: JSON.stringify(binding) });
  const kubeconfig = await kubeconfigFor(user);
  const namespace = await createNamespace(`mcp-warden-system-${prefix}`);
  const dir = mkdtempSync(join(tmpdir(), `operator-${prefix}-`));
  const ca = await createCertificateAuthority(`mcp-warden ${prefix} test CA`);
  const leaf = await issueCertificate(ca, { commonName: "mcp-warden-operator", hosts: ["127.0.0.1", "localhost"], usage: "server" });
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  return { namespace, kubeconfig, user, dir, caPem: ca.certPem, caFile: write("ca.pem", ca.certPem), certFile: write("tls.crt", leaf.certPem), keyFile: write("tls.key", leaf.keyPem) };
}

export interface OperatorProcess {
  identity: string;
  webhookPort: number;
  streamPort: number;
  adminPort: number;
  process: ManagedProcess;
  streamUrl: string;
  metrics(): Promise<string>;
  /** Graceful: SIGTERM. */
  stop(): Promise<void>;
  /** SIGKILL, no goodbye (the Lease is not released). */
  kill(): Promise<void>;
}

export interface StartOptions {
  identity: string;
  extraArgs?: string[];
  /** Default: the environment's certificate files. */
  tls?: boolean;
  /** Default: free ports. A restarted operator takes its predecessor's. */
  ports?: { webhookPort: number; streamPort: number; adminPort: number };
  /** Added to the test process's environment (e.g. OTEL_*). */
  env?: Record<string, string>;
}

export async function startOperator(env: OperatorEnvironment, options: StartOptions): Promise<OperatorProcess> {
  const { webhookPort, streamPort, adminPort } = options.ports ?? { webhookPort: await freePort(), streamPort: await freePort(), adminPort: await freePort() };
  const args = [
    join(repoRoot(), "cli", "main.ts"),
    "operator",
    `--kubeconfig=${env.kubeconfig}`,
    `--namespace=${env.namespace}`,
    `--identity=${options.identity}`,
    "--bind-address=127.0.0.1",
    `--webhook-port=${webhookPort}`,
    `--stream-port=${streamPort}`,
    `--admin-port=${adminPort}`,
    `--control-plane-url=https://127.0.0.1:${streamPort}`,
    "--sidecar-image=mcp-warden:integration",
    "--lease-duration=3",
    "--renew-deadline=2",
    "--retry-period=0.5",
    "--log-level=debug",
    ...(options.tls === false ? [] : [`--tls-cert-file=${env.certFile}`, `--tls-key-file=${env.keyFile}`, `--control-plane-ca-file=${env.caFile}`]),
    ...(options.extraArgs ?? []),
  ];
  const process_ = new ManagedProcess({
    name: `operator-${options.identity}`,
    command: process.execPath,
    args,
    logFile: join(env.dir, `${options.identity}-${Date.now()}.log`),
    ...(options.env === undefined ? {} : { env: { ...process.env, ...options.env } }),
  });
  const admin = `http://127.0.0.1:${adminPort}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!process_.running) throw new Error(`operator ${options.identity} exited:\n${readLog(process_)}`);
    const ready = await httpGet(`${admin}/readyz`).catch(() => ({ status: 0, body: "" }));
    if (ready.status === 200) break;
    if (Date.now() > deadline) throw new Error(`operator ${options.identity} not ready (${ready.body}):\n${readLog(process_)}`);
    await sleep(100);
  }
  return {
    identity: options.identity,
    webhookPort,
    streamPort,
    adminPort,
    process: process_,
    streamUrl: `https://127.0.0.1:${streamPort}`,
    metrics: async () => (await httpGet(`${admin}/metrics`)).body,
    stop: () => process_.stop(10_000),
    kill: async () => {
      process_.signal("SIGKILL");
      await process_.whenExited();
      await process_.stop();
    },
  };
}

export function readLog(process_: ManagedProcess, lines = 60): string {
  try {
    return readFileSync(process_.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Registers the injection webhook at the operator's URL; returns a function that removes it. */
export async function registerInjectionWebhook(env: OperatorEnvironment, name: string, webhookPort: number): Promise<() => Promise<void>> {
  const configuration = injectionWebhookConfiguration({
    name,
    client: { url: `https://127.0.0.1:${webhookPort}` },
    caBundlePem: env.caPem,
    failurePolicy: "Fail",
    operatorNamespace: env.namespace,
  });
  await kubectlOk(["apply", "--server-side", "--field-manager=mcp-warden-tests", "-f", "-"], { input: JSON.stringify(configuration) });
  return async () => void (await kubectlOk(["delete", "mutatingwebhookconfiguration", name, "--ignore-not-found"]));
}

// --- the API server, as the admin, without spawning kubectl for every poll ---

interface AdminCredentials {
  server: URL;
  ca: string;
  cert: string;
  key: string;
}

let credentials: AdminCredentials | undefined;

function adminCredentials(): AdminCredentials {
  if (credentials) return credentials;
  const config = load(readFileSync(controlPlane().kubeconfig, "utf8")) as {
    clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
    users: { user: { "client-certificate-data": string; "client-key-data": string } }[];
  };
  const b64 = (s: string): string => Buffer.from(s, "base64").toString("utf8");
  credentials = {
    server: new URL(config.clusters[0]!.cluster.server),
    ca: b64(config.clusters[0]!.cluster["certificate-authority-data"]),
    cert: b64(config.users[0]!.user["client-certificate-data"]),
    key: b64(config.users[0]!.user["client-key-data"]),
  };
  return credentials;
}

/**
 * The McpApproval webhooks (decidedBy from userInfo; who may decide) served by the
 * operator at `port`, for one namespace only: other tests' McpApprovals are not theirs.
 */
export async function registerApprovalWebhooks(env: OperatorEnvironment, name: string, port: number, namespace: string): Promise<() => Promise<void>> {
  const common = (path: string, webhook: string) => ({
    name: webhook,
    clientConfig: { url: `https://127.0.0.1:${port}${path}`, caBundle: Buffer.from(env.caPem).toString("base64") },
    rules: [{ operations: ["CREATE", "UPDATE"], apiGroups: ["mcpwarden.dev"], apiVersions: ["*"], resources: ["mcpapprovals"], scope: "Namespaced" }],
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
    failurePolicy: "Fail",
    sideEffects: "None",
    admissionReviewVersions: ["v1"],
    timeoutSeconds: 10,
  });
  const configurations = [
    { apiVersion: "admissionregistration.k8s.io/v1", kind: "MutatingWebhookConfiguration", metadata: { name }, webhooks: [common("/v1/approvals/mutate", "decided-by.approvals.mcpwarden.dev")] },
    { apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingWebhookConfiguration", metadata: { name }, webhooks: [common("/v1/approvals/validate", "decision.approvals.mcpwarden.dev")] },
  ];
  for (const configuration of configurations) await kubectlOk(["apply", "--server-side", "--field-manager=mcp-warden-tests", "-f", "-"], { input: JSON.stringify(configuration) });
  return async () => {
    await kubectl(["delete", "mutatingwebhookconfiguration,validatingwebhookconfiguration", name, "--ignore-not-found"]);
  };
}

export async function api<T = unknown>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<{ status: number; body: T }> {
  const { server, ca, cert, key } = adminCredentials();
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: server.hostname, port: server.port, path, method, ca, cert, key, headers: { accept: "application/json", ...(payload === undefined ? {} : { "content-type": contentType }) } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

export async function apiOk<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
  const response = await api<T>(method, path, body, contentType);
  if (response.status < 200 || response.status > 299) throw new Error(`${method} ${path}: HTTP ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

export interface PolicyStatus {
  observedGeneration?: number;
  targets?: { pods: number; inSync: number; unprotected: number };
  conditions?: { type: string; status: string; reason: string; message: string; observedGeneration?: number }[];
}

export interface PolicyJson {
  metadata: { name: string; namespace: string; generation: number; uid: string };
  spec: Record<string, unknown>;
  status?: PolicyStatus;
}

export async function applyPolicy(namespace: string, name: string, spec: Record<string, unknown>): Promise<PolicyJson> {
  const document = { apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpPolicy", metadata: { name, namespace }, spec };
  return apiOk<PolicyJson>(
    "PATCH",
    `/apis/mcpwarden.dev/v1alpha1/namespaces/${namespace}/mcppolicies/${name}?fieldManager=mcp-warden-tests&force=true`,
    document,
    "application/apply-patch+yaml",
  );
}

export async function readPolicy(namespace: string, name: string): Promise<PolicyJson> {
  return apiOk<PolicyJson>("GET", `/apis/mcpwarden.dev/v1alpha1/namespaces/${namespace}/mcppolicies/${name}`);
}

export function conditionOf(status: PolicyStatus | undefined, type: string) {
  return status?.conditions?.find((condition) => condition.type === type);
}

export interface PodJson {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { initContainers?: { name: string; restartPolicy?: string; [key: string]: unknown }[]; containers: { name: string }[]; volumes?: { name: string }[]; serviceAccountName?: string };
  status?: { podIP?: string };
}

export function podManifest(name: string, options: { labels?: Record<string, string>; annotations?: Record<string, string>; serviceAccount?: string } = {}): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: options.labels ?? {}, annotations: options.annotations ?? {} },
    spec: {
      serviceAccountName: options.serviceAccount ?? "mcp-server",
      containers: [{ name: "server", image: "mcp-server:test", ports: [{ name: "http", containerPort: 8080 }] }],
    },
  };
}

/** Creates the pod through admission (webhooks included); the answer is what was stored, or the refusal. */
export async function createPod(namespace: string, manifest: Record<string, unknown>): Promise<{ status: number; body: PodJson & { message?: string } }> {
  return api<PodJson & { message?: string }>("POST", `/api/v1/namespaces/${namespace}/pods`, manifest);
}

/** No kubelet runs here: the test plays it, giving the pod an IP and phase Running. */
export async function setPodRunning(namespace: string, name: string, ip: string): Promise<void> {
  await apiOk("PATCH", `/api/v1/namespaces/${namespace}/pods/${name}/status`, { status: { phase: "Running", podIP: ip, podIPs: [{ ip }] } }, "application/merge-patch+json");
}

export async function createServiceAccount(namespace: string, name: string): Promise<string> {
  const created = await apiOk<{ metadata: { uid: string } }>("POST", `/api/v1/namespaces/${namespace}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name } });
  return created.metadata.uid;
}

/** TokenRequest, bound to the pod, as the kubelet asks for a projected token. */
export async function podToken(namespace: string, serviceAccount: string, pod: { name: string; uid: string }, audience = "mcpwarden.dev", seconds = 3600): Promise<string> {
  const response = await apiOk<{ status: { token: string } }>("POST", `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`, {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: { audiences: [audience], expirationSeconds: seconds, boundObjectRef: { kind: "Pod", apiVersion: "v1", name: pod.name, uid: pod.uid } },
  });
  return response.status.token;
}

/** The operator's Events about one object (the API server's own, e.g. a Service's ClusterIP repair, are not counted). */
export async function eventsFor(namespace: string, uid: string): Promise<{ reason: string; note: string; type: string }[]> {
  const list = await apiOk<{ items: { reason: string; note: string; type: string; regarding: { uid: string }; reportingController?: string }[] }>(
    "GET",
    `/apis/events.k8s.io/v1/namespaces/${namespace}/events`,
  );
  return list.items.filter((event) => event.regarding.uid === uid && event.reportingController === "mcpwarden.dev/operator");
}

// --- a simulated sidecar: the stream protocol over HTTPS, nothing else ---

interface StreamEvent {
  event: string;
  data: string;
}

export interface SimulatedSidecar {
  status: number;
  /** The body of a refused request. */
  refusal: string;
  events: StreamEvent[];
  bundles(): { revision: string; policies: { namespace: string; name: string; generation: number }[] }[];
  close(): void;
}

export function connectStream(url: string, token: string, caPem: string): Promise<SimulatedSidecar> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}/v1/stream`, { ca: caPem, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const sidecar: SimulatedSidecar = {
        status: res.statusCode ?? 0,
        refusal: "",
        events: [],
        bundles: () => sidecar.events.filter((e) => e.event === "bundle").map((e) => JSON.parse(e.data) as ReturnType<SimulatedSidecar["bundles"]>[number]),
        close: () => req.destroy(),
      };
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (sidecar.status !== 200) {
          sidecar.refusal += chunk;
          return;
        }
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (frame.startsWith(":")) continue;
          sidecar.events.push({ event: /^event: (.*)$/m.exec(frame)?.[1] ?? "message", data: /^data: (.*)$/m.exec(frame)?.[1] ?? "" });
        }
      });
      res.on("error", () => undefined);
      resolve(sidecar);
    });
    req.on("error", reject);
    req.end();
  });
}

export function postAck(url: string, token: string, caPem: string, revision: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}/v1/ack`, { method: "POST", ca: caPem, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(JSON.stringify({ revision }));
  });
}

// --- real sidecars in front of a pod's MCP server, and people using the kubectl plugin ---

export interface PodSidecar {
  pod: PodJson;
  process: ManagedProcess;
  /** http://127.0.0.1:PORT of its admin port (/metrics, /readyz). */
  admin: string;
  /** An SDK client connected through it. */
  client: Client;
}

export interface PodSidecarOptions {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  serviceAccount: string;
  upstreamUrl: string;
  extraArgs?: string[];
  /** Headers the client sends (the caller, for identity source header). */
  headers?: Record<string, string>;
}

/**
 * A pod created through admission (so injected), "running" at 127.0.0.1, and a real
 * `mcp-warden sidecar` process with its pod-bound token on the operator's stream; ready
 * once /readyz says so. `cleanups` gets what stops them.
 */
export async function startPodSidecar(env: OperatorEnvironment, operator: OperatorProcess, options: PodSidecarOptions, cleanups: (() => Promise<unknown>)[]): Promise<PodSidecar> {
  const { namespace, name, serviceAccount } = options;
  const created = await createPod(namespace, podManifest(name, { labels: options.labels, serviceAccount, annotations: { "mcpwarden.dev/upstream-port": "8080" } }));
  if (created.status !== 201) throw new Error(`pod ${name} was not created: ${JSON.stringify(created.body)}`);
  await setPodRunning(namespace, name, "127.0.0.1");
  const dir = join(env.dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "token"), await podToken(namespace, serviceAccount, created.body.metadata));
  const [listen, adminPort] = [await freePort(), await freePort()];
  const process_ = new ManagedProcess({
    name,
    command: process.execPath,
    args: [
      join(repoRoot(), "cli", "main.ts"),
      "sidecar",
      `--listen=127.0.0.1:${listen}`,
      `--admin=127.0.0.1:${adminPort}`,
      `--upstream=${options.upstreamUrl}`,
      `--control-plane=${operator.streamUrl}`,
      `--token-file=${join(dir, "token")}`,
      `--control-plane-ca=${env.caFile}`,
      ...(options.extraArgs ?? []),
    ],
    logFile: join(env.dir, `${name}.log`),
  });
  cleanups.push(() => process_.stop());
  const admin = `http://127.0.0.1:${adminPort}`;
  await eventually(`${name} to be ready:\n${readLog(process_)}`, async () => ((await httpGet(`${admin}/readyz`)).status === 200 ? true : undefined), 60_000);
  const client = new Client({ name: `${name}-agent`, version: "0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${listen}/mcp`), { requestInit: { headers: options.headers ?? {} } }));
  cleanups.push(() => client.close());
  return { pod: created.body, process: process_, admin, client };
}

/** A folder holding `kubectl-mcpwarden` (the built plugin), for PATH. */
export function installKubectlPlugin(): string {
  const plugins = mkdtempSync(join(tmpdir(), "kubectl-plugins-"));
  const script = join(repoRoot(), "dist", "cli", "kubectl-mcpwarden.js");
  chmodSync(script, 0o755);
  symlinkSync(script, join(plugins, "kubectl-mcpwarden"));
  return plugins;
}

/** `kubectl mcpwarden ...` with this kubeconfig (default: the admin's), the plugin found by kubectl on PATH. */
export function runKubectlPlugin(plugins: string, kubeconfig: string | undefined, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run(controlPlane().kubectl, ["mcpwarden", ...args], {
    env: {
      ...process.env,
      PATH: [plugins, dirname(controlPlane().kubectl), dirname(process.execPath), process.env["PATH"] ?? ""].join(":"),
      KUBECONFIG: kubeconfig ?? controlPlane().kubeconfig,
    },
  });
}

// --- small things ---

export function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns a value (not undefined) or throws its last error after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${last instanceof Error ? last.message : String(last)}`}`);
    await sleep(150);
  }
}

/** A metric's value from Prometheus text, matched by its name and label text. */
export function metricValue(text: string, name: string, labels = ""): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const [series, value] = line.split(" ");
    if (series === `${name}${labels}` || (labels === "" && series === name)) return Number(value);
  }
  return undefined;
}
