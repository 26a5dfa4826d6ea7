// What the benchmarks that need a cluster share (propagation, scaling): a small client for
// the test harness's kube-apiserver, the operator as its own process (`mcp-warden
// operator`, so its RSS is its own) with a serving certificate of its own, and waiting.

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { load } from "js-yaml";
import { packageRoot as repoRoot } from "../cli/package-root.ts";
import { ControlPlane, type ControlPlaneInfo } from "../test/harness/control-plane.ts";
import { controlPlaneBinDir } from "../test/harness/control-plane-bin.ts";
import { freePort } from "../test/harness/free-port.ts";
import { createCertificateAuthority, issueCertificate } from "../operator/tls/certificates.ts";
import { cliScript } from "./bench-process.ts";

export interface BenchCluster {
  readonly cp: ControlPlaneInfo;
  readonly kube: Kube;
  /** Certificates, etcd data and logs; removed by stop(). */
  readonly stateDir: string;
  stop(): Promise<void>;
}

/** etcd and kube-apiserver (the test harness's) with the CRDs established and `namespace` created. */
export async function startBenchCluster(label: string, namespace: string): Promise<BenchCluster> {
  const stateDir = mkdtempSync(join(tmpdir(), `mcp-warden-bench-${label}-`));
  const controlPlane = new ControlPlane({ binDir: controlPlaneBinDir(), stateDir });
  const stop = async (): Promise<void> => {
    await controlPlane.stop();
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    console.log(`[bench] ${label}: starting etcd and kube-apiserver`);
    const cp = await controlPlane.start();
    const kube = kubeClient(cp.kubeconfig);
    const kubectl = (...args: string[]) => promisify(execFile)(cp.kubectl, [`--kubeconfig=${cp.kubeconfig}`, ...args], { maxBuffer: 64 * 1024 * 1024 });
    await kubectl("apply", "--server-side", "-f", join(repoRoot(), "crds"));
    await kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", join(repoRoot(), "crds"));
    await kube("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    return { cp, kube, stateDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export type Kube = (method: string, path: string, body?: unknown, contentType?: string) => Promise<unknown>;

/** Where the API server is and the admin's credentials, from the harness's kubeconfig. */
export interface KubeConnection {
  readonly host: string;
  readonly port: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export function kubeConnection(kubeconfig: string): KubeConnection {
  const config = load(readFileSync(kubeconfig, "utf8")) as {
    clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
    users: { user: { "client-certificate-data": string; "client-key-data": string } }[];
  };
  const b64 = (s: string): string => Buffer.from(s, "base64").toString("utf8");
  const server = new URL(config.clusters[0]!.cluster.server);
  const user = config.users[0]!.user;
  return { host: server.hostname, port: server.port, ca: b64(config.clusters[0]!.cluster["certificate-authority-data"]), cert: b64(user["client-certificate-data"]), key: b64(user["client-key-data"]) };
}

export function kubeClient(kubeconfig: string): Kube {
  const connection = kubeConnection(kubeconfig);
  return (method, path, body, contentType = "application/json") =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = httpsRequest({ ...connection, path, method, headers: payload === undefined ? {} : { "content-type": contentType } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => ((res.statusCode ?? 0) < 300 ? resolve(text === "" ? undefined : JSON.parse(text)) : reject(new Error(`${method} ${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`))));
      });
      req.on("error", reject);
      req.end(payload);
    });
}

/** Server-side apply of an McpPolicy (created or changed). */
export function applyPolicy(kube: Kube, namespace: string, name: string, spec: Record<string, unknown>): Promise<unknown> {
  const document = { apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpPolicy", metadata: { name, namespace }, spec };
  return kube("PATCH", `/apis/mcpwarden.dev/v1alpha1/namespaces/${namespace}/mcppolicies/${name}?fieldManager=bench&force=true`, document, "application/apply-patch+yaml");
}

export interface ChildHandle {
  pid: number;
  exited: () => boolean;
  output: () => string;
  stop(): Promise<void>;
}

function execFileChild(args: string[]): ChildHandle {
  const child = execFile(process.execPath, args, { maxBuffer: 1024 * 1024 * 1024 });
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
    if (process.env.BENCH_DEBUG) process.stderr.write(chunk);
  });
  child.stdout?.resume();
  let exited = false;
  const done = new Promise<void>((resolve) => child.on("exit", () => ((exited = true), resolve())));
  return {
    pid: child.pid ?? 0,
    exited: () => exited,
    output: () => output,
    stop: async () => {
      if (!exited) child.kill("SIGTERM");
      await Promise.race([done, sleep(10_000).then(() => child.kill("SIGKILL"))]);
    },
  };
}

export interface OperatorProcess extends ChildHandle {
  readonly streamPort: number;
  readonly adminPort: number;
  /** The CA of the operator's serving certificate, which stream clients trust. */
  readonly caPem: string;
  /** performance.now() when the process was started. */
  readonly startedAt: number;
}

/** `mcp-warden operator` against the control plane, not yet ready (see waitReady). */
export async function startOperatorProcess(cp: ControlPlaneInfo, stateDir: string, nodeFlags: readonly string[] = []): Promise<OperatorProcess> {
  const ca = await createCertificateAuthority("bench operator CA");
  const leaf = await issueCertificate(ca, { commonName: "operator", hosts: ["127.0.0.1"], usage: "server" });
  writeFileSync(join(stateDir, "tls.crt"), leaf.certPem);
  writeFileSync(join(stateDir, "tls.key"), leaf.keyPem);
  const [webhookPort, streamPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const startedAt = performance.now();
  const child = execFileChild([
    ...nodeFlags,
    cliScript(),
    "operator",
    `--kubeconfig=${cp.kubeconfig}`,
    "--namespace=default",
    "--bind-address=127.0.0.1",
    `--webhook-port=${webhookPort}`,
    `--stream-port=${streamPort}`,
    `--admin-port=${adminPort}`,
    `--tls-cert-file=${join(stateDir, "tls.crt")}`,
    `--tls-key-file=${join(stateDir, "tls.key")}`,
    "--no-leader-elect",
    // Every simulated sidecar connects from 127.0.0.1; the pods have no IP to compare with.
    "--no-verify-peer-address",
    `--log-level=${process.env.BENCH_DEBUG ? "info" : "warn"}`,
  ]);
  return { ...child, streamPort, adminPort, caPem: ca.certPem, startedAt };
}

export async function waitReady(url: string, child: ChildHandle, timeoutMs = 60_000): Promise<void> {
  await until(
    async () => {
      if (child.exited()) throw new Error(`the operator exited:\n${child.output()}`);
      const response = await fetch(url).catch(() => undefined);
      return response?.status === 200;
    },
    timeoutMs,
    "the operator to be ready",
  );
}

/** The operator's V8 heap (used, total) and memory outside it, in MB, from its /metrics. */
export async function operatorHeapMb(adminPort: number): Promise<{ heapUsed: number; heapTotal: number; external: number }> {
  const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const mb = (name: string): number => Math.round(Number(new RegExp(`^${name} (\\S+)`, "m").exec(metrics)?.[1] ?? Number.NaN) / 2 ** 20);
  return { heapUsed: mb("nodejs_heap_size_used_bytes"), heapTotal: mb("nodejs_heap_size_total_bytes"), external: mb("nodejs_external_memory_bytes") };
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

export async function inBatches(count: number, parallel: number, work: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
