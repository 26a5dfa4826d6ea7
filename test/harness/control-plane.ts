// etcd + kube-apiserver on free loopback ports, configured the way controller-runtime's
// envtest runs them: generated certificates, RBAC authorization, the ServiceAccount
// admission plugin off (no controller-manager runs to create tokens or namespaces' SAs).
import { mkdirSync, writeFileSync, readFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { request } from "node:https";
import {
  createCertificateAuthority,
  createSigningKeyPair,
  issueCertificate,
  type CertificateAuthority,
} from "../../operator/tls/certificates.ts";
import { freePort } from "./free-port.ts";
import { ManagedProcess } from "./managed-process.ts";
import { writeKubeconfig } from "./kubeconfig.ts";

export interface ControlPlaneInfo {
  /** Admin kubeconfig (group system:masters). */
  kubeconfig: string;
  server: string;
  binDir: string;
  kubectl: string;
  helm: string;
  /** Files for minting kubeconfigs of other users (kubeconfigFor). */
  clientCaCertFile: string;
  clientCaKeyFile: string;
  serverCaCertFile: string;
  serviceAccountKeyFile: string;
  serviceAccountPublicKeyFile: string;
  serviceAccountIssuer: string;
  stateDir: string;
  logDir: string;
}

export interface ControlPlaneOptions {
  binDir: string;
  /** Certificates, etcd data, kubeconfigs and logs go here. */
  stateDir: string;
  startTimeoutMs?: number;
  /** Serve a real node (the local cluster) instead of envtest-style tests. */
  node?: NodeControlPlane;
}

/**
 * A control plane for a node that runs Pods: etcd and kube-apiserver inside the cluster's
 * namespaces (fixed ports there), the ServiceAccount and NodeRestriction admission
 * plugins on, Node + RBAC authorization, and a client certificate for the kubelets.
 */
interface NodeControlPlane {
  /** The command prefix that runs a process inside the cluster's namespaces. */
  launcher: string[];
  /** The API server's address there, reachable from the host; it listens on port 6443. */
  address: string;
  serviceCidr: string;
  /** The `kubernetes` Service's ClusterIP, named in the serving certificate. */
  serviceIp: string;
}

const serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local";

export class ControlPlane {
  private etcd?: ManagedProcess;
  private apiserver?: ManagedProcess;
  private stopping?: Promise<void>;
  private readonly options: ControlPlaneOptions;
  info?: ControlPlaneInfo;

  constructor(options: ControlPlaneOptions) {
    this.options = options;
  }

  async start(): Promise<ControlPlaneInfo> {
    const { binDir, stateDir } = this.options;
    for (const bin of ["etcd", "kube-apiserver", "kubectl"]) {
      if (!existsSync(join(binDir, bin))) {
        throw new Error(`${bin} is not in ${binDir}; run \`make control-plane\` to build it`);
      }
    }
    const certDir = join(stateDir, "pki");
    const logDir = join(stateDir, "logs");
    const etcdDir = join(stateDir, "etcd");
    rmSync(etcdDir, { recursive: true, force: true });
    for (const dir of [certDir, logDir, etcdDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });

    const node = this.options.node;
    const files = await writeCertificates(certDir, node === undefined ? [] : [node.address, node.serviceIp]);
    const timeoutMs = this.options.startTimeoutMs ?? 120_000;

    // In the cluster's own network namespace every port is free.
    const etcdPort = node === undefined ? await freePort() : 2379;
    const etcdPeerPort = node === undefined ? await freePort() : 2380;
    this.etcd = new ManagedProcess({
      name: "etcd",
      launcher: node?.launcher,
      command: join(binDir, "etcd"),
      args: [
        `--data-dir=${etcdDir}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
        "--unsafe-no-fsync", // test data; fsync on a shared disk costs seconds
        "--log-level=warn",
      ],
      logFile: join(logDir, "etcd.log"),
    });

    const apiAddress = node?.address ?? "127.0.0.1";
    const apiPort = node === undefined ? await freePort() : 6443;
    const server = `https://${apiAddress}:${apiPort}`;
    const modeArgs =
      node === undefined
        ? ["--service-cluster-ip-range=10.0.0.0/24", "--authorization-mode=RBAC", "--disable-admission-plugins=ServiceAccount", "--endpoint-reconciler-type=none"]
        : [
            `--service-cluster-ip-range=${node.serviceCidr}`,
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            // kubectl logs/exec reach the kubelet at the node's InternalIP, with this client certificate.
            "--kubelet-preferred-address-types=InternalIP",
            `--kubelet-client-certificate=${files.kubeletClientCert}`,
            `--kubelet-client-key=${files.kubeletClientKey}`,
          ];
    this.apiserver = new ManagedProcess({
      name: "kube-apiserver",
      launcher: node?.launcher,
      command: join(binDir, "kube-apiserver"),
      args: [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        `--bind-address=${apiAddress}`,
        `--advertise-address=${apiAddress}`,
        `--secure-port=${apiPort}`,
        `--cert-dir=${certDir}`,
        `--tls-cert-file=${files.servingCert}`,
        `--tls-private-key-file=${files.servingKey}`,
        `--client-ca-file=${files.clientCaCert}`,
        `--service-account-key-file=${files.saPublicKey}`,
        `--service-account-signing-key-file=${files.saPrivateKey}`,
        `--service-account-issuer=${serviceAccountIssuer}`,
        ...modeArgs,
        "--allow-privileged=true",
        "--enable-priority-and-fairness=false",
        "--v=1",
      ],
      logFile: join(logDir, "kube-apiserver.log"),
    });

    const kubeconfig = join(stateDir, "kubeconfig");
    writeKubeconfig(kubeconfig, {
      server,
      caCertPem: readFileSync(files.serverCaCert, "utf8"),
      user: "admin",
      certPem: readFileSync(files.adminCert, "utf8"),
      keyPem: readFileSync(files.adminKey, "utf8"),
    });

    this.info = {
      kubeconfig,
      server,
      binDir,
      kubectl: join(binDir, "kubectl"),
      helm: join(binDir, "helm"),
      clientCaCertFile: files.clientCaCert,
      clientCaKeyFile: files.clientCaKey,
      serverCaCertFile: files.serverCaCert,
      serviceAccountKeyFile: files.saPrivateKey,
      serviceAccountPublicKeyFile: files.saPublicKey,
      serviceAccountIssuer,
      stateDir,
      logDir,
    };
    await this.waitReady(files, apiAddress, apiPort, timeoutMs);
    return this.info;
  }

  private async waitReady(files: CertificateFiles, host: string, port: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "no answer yet";
    while (Date.now() < deadline) {
      for (const p of [this.etcd, this.apiserver]) {
        if (p && !p.running) {
          throw new Error(`${p.name} exited during start-up; see ${p.logFile}:\n${tail(p.logFile)}`);
        }
      }
      try {
        const { status, body } = await get(host, port, "/readyz", files);
        if (status === 200) return;
        last = `HTTP ${status}: ${body.split("\n").filter((l) => l.includes("failed")).join("; ")}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`kube-apiserver was not ready after ${timeoutMs} ms (${last}); see ${this.info?.logDir}`);
  }

  /** Stops kube-apiserver, then etcd. Safe to call more than once and concurrently. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.apiserver?.stop();
      await this.etcd?.stop();
    })();
    return this.stopping;
  }

  /** The last lines of each component's log, for a failing test's report. */
  logTails(lines = 40): string {
    return [this.etcd, this.apiserver]
      .filter((p): p is ManagedProcess => p !== undefined)
      .map((p) => `--- ${p.name} (${p.logFile}) ---\n${tail(p.logFile, lines)}`)
      .join("\n");
  }
}

export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

interface CertificateFiles {
  serverCaCert: string;
  servingCert: string;
  servingKey: string;
  clientCaCert: string;
  clientCaKey: string;
  adminCert: string;
  adminKey: string;
  saPrivateKey: string;
  saPublicKey: string;
  kubeletClientCert: string;
  kubeletClientKey: string;
}

async function writeCertificates(dir: string, extraHosts: string[]): Promise<CertificateFiles> {
  const write = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const serverCa: CertificateAuthority = await createCertificateAuthority("mcp-warden-test-server-ca");
  const clientCa: CertificateAuthority = await createCertificateAuthority("mcp-warden-test-client-ca");
  const serving = await issueCertificate(serverCa, {
    commonName: "kube-apiserver",
    hosts: ["127.0.0.1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", ...extraHosts],
    usage: "server",
  });
  const admin = await issueCertificate(clientCa, {
    commonName: "admin",
    organizations: ["system:masters"],
    usage: "client",
  });
  // The API server's identity towards kubelets (logs, exec, port-forward).
  const kubeletClient = await issueCertificate(clientCa, { commonName: "kube-apiserver-kubelet-client", organizations: ["system:masters"], usage: "client" });
  const sa = createSigningKeyPair();
  return {
    serverCaCert: write("server-ca.crt", serverCa.certPem),
    servingCert: write("apiserver.crt", serving.certPem),
    servingKey: write("apiserver.key", serving.keyPem),
    clientCaCert: write("client-ca.crt", clientCa.certPem),
    clientCaKey: write("client-ca.key", clientCa.keyPem),
    adminCert: write("admin.crt", admin.certPem),
    adminKey: write("admin.key", admin.keyPem),
    saPrivateKey: write("sa.key", sa.privateKeyPem),
    saPublicKey: write("sa.pub", sa.publicKeyPem),
    kubeletClientCert: write("apiserver-kubelet-client.crt", kubeletClient.certPem),
    kubeletClientKey: write("apiserver-kubelet-client.key", kubeletClient.keyPem),
  };
}

function get(host: string, port: number, path: string, files: CertificateFiles): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        path: `${path}?verbose`,
        method: "GET",
        ca: readFileSync(files.serverCaCert),
        cert: readFileSync(files.adminCert),
        key: readFileSync(files.adminKey),
        timeout: 5_000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}
