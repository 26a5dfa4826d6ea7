// A one-node Kubernetes cluster on this machine: etcd, kube-apiserver, containerd (with
// runc and the CNI plugins from Debian), kubelet, kube-proxy, kube-controller-manager,
// kube-scheduler and CoreDNS, all inside the namespaces of ClusterNamespace. Images come
// from docker-archives imported into containerd; nothing is ever pulled. One cluster per
// machine (ClusterLock); the host is put back by restoreHost — after a normal stop, and at
// the next start after a run that was killed.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { issueCertificate, loadCertificateAuthority, type CertificateAuthority } from "../../operator/tls/certificates.ts";
import { ClusterNamespace } from "./cluster-namespace.ts";
import { ControlPlane, tail, type ControlPlaneInfo } from "./control-plane.ts";
import { ClusterLock, makeCgroups, readRecord, readSysctls, restoreHost, writeRecord, type HostRecord } from "./host-state.ts";
import { writeKubeconfig } from "./kubeconfig.ts";
import { ManagedProcess } from "./managed-process.ts";
import { clusterNetwork, cniConfig, containerdConfig, corednsManifests, kubeletConfig, kubeProxyConfig, type NodePaths } from "./node-config.ts";

const exec = promisify(execFile);

export interface LocalClusterOptions {
  controlPlaneBinDir: string;
  /** kubelet, kube-proxy, kube-controller-manager, kube-scheduler, crictl, pause (tools/build-node.sh). */
  nodeBinDir: string;
  /** Wiped at start: this run's certificates, etcd data, containerd and kubelet state, logs. */
  stateDir: string;
  /**
   * Builds (or finds) the docker-archives to import into containerd before the kubelet
   * starts; called once the machine's cluster lock is held.
   */
  prepareImages: () => Promise<string[]>;
  sandboxImage: string;
  corednsImage: string;
  log: (line: string) => void;
}

export interface LocalClusterInfo extends ControlPlaneInfo {
  nodeBinDir: string;
  containerdSocket: string;
  /** The namespaces' init as the host sees it (`nsenter --target` it to look inside). */
  namespaceInitPid: number;
  nodeName: string;
}

export class LocalCluster {
  private lock?: ClusterLock;
  private record?: HostRecord;
  private namespace?: ClusterNamespace;
  private controlPlane?: ControlPlane;
  private readonly components: ManagedProcess[] = [];
  private stopping?: Promise<string[]>;
  info?: LocalClusterInfo;
  private readonly options: LocalClusterOptions;

  constructor(options: LocalClusterOptions) {
    this.options = options;
  }

  /** Throws ClusterLockedError (one line) when another cluster runs. */
  async start(): Promise<LocalClusterInfo> {
    const { stateDir, log } = this.options;
    this.lock = await ClusterLock.acquire();
    await cleanUpAfterKilledCluster(log);
    const archives = await this.options.prepareImages();
    rmSync(stateDir, { recursive: true, force: true });
    const logDir = join(stateDir, "logs");
    mkdirSync(logDir, { recursive: true });

    this.record = {
      owner: { pid: process.pid, command: process.argv.slice(1).join(" "), cwd: process.cwd(), startedAt: new Date().toISOString() },
      sysctls: readSysctls(),
      cgroups: [],
      hostInterface: clusterNetwork.hostInterface,
      stateDir,
    };
    writeRecord(this.record);
    this.record.cgroups = makeCgroups(clusterNetwork.cgroupName);
    writeRecord(this.record);

    const { nodeBinDir, controlPlaneBinDir } = this.options;
    this.namespace = new ClusterNamespace(join(nodeBinDir, "pause"), stateDir, logDir);
    await this.namespace.start();
    this.record.namespaceInit = { pid: this.namespace.initPid, pidNamespace: this.namespace.pidNamespace };
    writeRecord(this.record);
    const launcher = this.namespace.launcher;

    log("starting etcd and kube-apiserver");
    this.controlPlane = new ControlPlane({
      binDir: controlPlaneBinDir,
      stateDir: join(stateDir, "control-plane"),
      node: { launcher, address: clusterNetwork.nodeAddress, serviceCidr: clusterNetwork.serviceCidr, serviceIp: clusterNetwork.apiServiceIp },
    });
    const cp = await this.controlPlane.start();

    const paths: NodePaths = {
      stateDir,
      containerdSocket: join(stateDir, "containerd", "containerd.sock"),
      cniConfigDir: join(stateDir, "cni", "net.d"),
      clientCaFile: cp.clientCaCertFile,
      kubeletKubeconfig: join(stateDir, "kubelet.kubeconfig"),
      kubeProxyKubeconfig: join(stateDir, "kube-proxy.kubeconfig"),
      resolvConf: join(stateDir, "resolv.conf"),
      sandboxImage: this.options.sandboxImage,
    };
    const clientCa = await loadCertificateAuthority(readFileSync(cp.clientCaCertFile, "utf8"), readFileSync(cp.clientCaKeyFile, "utf8"));
    const kubeconfigOf = (file: string, user: string, groups: string[] = []): Promise<string> => this.writeComponentKubeconfig(cp, clientCa, file, user, groups);
    await kubeconfigOf(paths.kubeletKubeconfig, `system:node:${clusterNetwork.nodeName}`, ["system:nodes"]);
    await kubeconfigOf(paths.kubeProxyKubeconfig, "system:kube-proxy");
    const schedulerKubeconfig = await kubeconfigOf(join(stateDir, "scheduler.kubeconfig"), "system:kube-scheduler");
    const controllerKubeconfig = await kubeconfigOf(join(stateDir, "controller-manager.kubeconfig"), "system:kube-controller-manager");
    mkdirSync(paths.cniConfigDir, { recursive: true });
    writeFileSync(join(paths.cniConfigDir, "10-mcp-warden.conflist"), cniConfig(paths));
    writeFileSync(join(stateDir, "containerd.toml"), containerdConfig(paths));
    writeFileSync(join(stateDir, "kubelet.json"), kubeletConfig(paths));
    writeFileSync(join(stateDir, "kube-proxy.json"), kubeProxyConfig(paths));
    // Pods with dnsPolicy Default get this: no resolver outside the cluster.
    writeFileSync(paths.resolvConf, `nameserver ${clusterNetwork.dnsServiceIp}\n`);

    const component = (name: string, command: string, args: string[]): ManagedProcess => {
      const started = new ManagedProcess({ name, command, args, launcher, logFile: join(logDir, `${name}.log`) });
      this.components.push(started);
      return started;
    };

    log("starting containerd");
    component("containerd", "/usr/bin/containerd", ["--config", join(stateDir, "containerd.toml")]);
    await this.waitFor("containerd", () => existsSync(paths.containerdSocket), 30_000);
    for (const archive of archives) await this.ctr(paths.containerdSocket, ["images", "import", archive]);
    log(`imported ${archives.length} images`);

    const bin = (name: string): string => join(nodeBinDir, name);
    component("kube-controller-manager", bin("kube-controller-manager"), [
      `--kubeconfig=${controllerKubeconfig}`,
      `--authentication-kubeconfig=${controllerKubeconfig}`,
      `--authorization-kubeconfig=${controllerKubeconfig}`,
      "--bind-address=127.0.0.1",
      "--leader-elect=false",
      "--use-service-account-credentials=true",
      `--root-ca-file=${cp.serverCaCertFile}`,
      `--service-account-private-key-file=${cp.serviceAccountKeyFile}`,
      `--cluster-signing-cert-file=${cp.clientCaCertFile}`,
      `--cluster-signing-key-file=${cp.clientCaKeyFile}`,
      `--service-cluster-ip-range=${clusterNetwork.serviceCidr}`,
      "--v=1",
    ]);
    component("kube-scheduler", bin("kube-scheduler"), [
      `--kubeconfig=${schedulerKubeconfig}`,
      `--authentication-kubeconfig=${schedulerKubeconfig}`,
      `--authorization-kubeconfig=${schedulerKubeconfig}`,
      "--bind-address=127.0.0.1",
      "--leader-elect=false",
      "--v=1",
    ]);
    component("kubelet", bin("kubelet"), [
      `--config=${join(stateDir, "kubelet.json")}`,
      `--kubeconfig=${paths.kubeletKubeconfig}`,
      `--root-dir=${join(stateDir, "kubelet")}`,
      `--cert-dir=${join(stateDir, "kubelet", "pki")}`,
      `--node-ip=${clusterNetwork.nodeAddress}`,
      `--hostname-override=${clusterNetwork.nodeName}`,
      "--v=1",
    ]);
    component("kube-proxy", bin("kube-proxy"), [`--config=${join(stateDir, "kube-proxy.json")}`, "--v=1"]);

    this.info = {
      ...cp,
      nodeBinDir,
      containerdSocket: paths.containerdSocket,
      namespaceInitPid: this.namespace.initPid,
      nodeName: clusterNetwork.nodeName,
      logDir,
    };
    const node = `node/${clusterNetwork.nodeName}`;
    await this.waitForAsync("the node to register", () => this.kubectl(["get", node]).then(() => true, () => false), 120_000);
    await this.kubectl(["wait", "--for=condition=Ready", node, "--timeout=120s"]);
    log("node Ready; starting CoreDNS");
    await this.kubectl(["apply", "--server-side", "--field-manager=mcp-warden-cluster", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: corednsManifests(this.options.corednsImage) }));
    await this.kubectl(["-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=120s"]);
    return this.info;
  }

  /** The tails of every component's log, for a failure report. */
  logTails(lines = 30): string {
    const parts = [this.controlPlane?.logTails(lines) ?? ""];
    for (const component of this.components) parts.push(`--- ${component.name} (${component.logFile}) ---\n${tail(component.logFile, lines)}`);
    return parts.join("\n");
  }

  /** Stops everything, puts the host back, releases the lock; returns what could not be undone. */
  stop(): Promise<string[]> {
    this.stopping ??= (async () => {
      // Killing the namespaces' init ends whatever is left (pods included) at once.
      await Promise.all([...this.components.map((component) => component.stop(5_000)), this.controlPlane?.stop()]);
      await this.namespace?.stop();
      const problems = this.record === undefined ? [] : await restoreHost(this.record);
      await this.lock?.release();
      return problems;
    })();
    return this.stopping;
  }

  /** kubectl with the admin kubeconfig; throws with stderr on failure. */
  async kubectl(args: string[], input?: string, timeoutMs = 150_000): Promise<string> {
    const cp = this.info ?? this.controlPlane?.info;
    if (cp === undefined) throw new Error("the control plane is not running");
    const child = execFile(cp.kubectl, [`--kubeconfig=${cp.kubeconfig}`, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
    return new Promise((resolve, reject) => {
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("exit", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`kubectl ${args.join(" ")} failed (${code}): ${stderr.trim()}\n${this.logTails(15)}`))));
    });
  }

  private async ctr(socket: string, args: string[]): Promise<void> {
    const [command, ...launch] = this.namespace!.launcher as [string, ...string[]];
    await exec(command, [...launch, "ctr", `--address=${socket}`, "--namespace=k8s.io", ...args], { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
  }

  private async writeComponentKubeconfig(cp: ControlPlaneInfo, ca: CertificateAuthority, file: string, user: string, groups: string[]): Promise<string> {
    const cert = await issueCertificate(ca, { commonName: user, organizations: groups, usage: "client" });
    writeKubeconfig(file, { server: cp.server, caCertPem: readFileSync(cp.serverCaCertFile, "utf8"), user, certPem: cert.certPem, keyPem: cert.keyPem });
    return file;
  }

  private async waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
    await this.waitForAsync(what, async () => check(), timeoutMs);
  }

  private async waitForAsync(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      const dead = this.components.find((c) => !c.running);
      if (dead !== undefined) throw new Error(`${dead.name} exited while waiting for ${what}:\n${tail(dead.logFile, 30)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${this.logTails(20)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * With the cluster lock held: puts the host back as a cluster that was killed left it
 * (its record in /run/mcp-warden), if one did. Throws when that fails.
 */
async function cleanUpAfterKilledCluster(log: (line: string) => void): Promise<void> {
  const previous = readRecord();
  if (previous === undefined) return;
  log(`cleaning up after a cluster that did not stop (pid ${previous.owner.pid}, since ${previous.owner.startedAt})`);
  const problems = await restoreHost(previous);
  if (problems.length > 0) throw new Error(`could not clean up after the previous cluster: ${problems.join("; ")}`);
}

/**
 * Before a host snapshot meant as "the host as it was": clean up after a killed cluster
 * first, so its leftovers (the sysctls the kubelet set, its interface) are not taken for
 * the host's own state. Throws ClusterLockedError when a cluster runs.
 */
export async function cleanUpHostBeforeSnapshot(log: (line: string) => void): Promise<void> {
  const lock = await ClusterLock.acquire();
  try {
    await cleanUpAfterKilledCluster(log);
  } finally {
    await lock.release();
  }
}
