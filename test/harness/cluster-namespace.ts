// The namespaces the local cluster lives in: one network, mount and PID namespace made by
// `unshare`, whose init is the static `pause`. Every component runs inside them (through
// `nsenter`), so the bridge, routes, iptables rules and pod and service addresses stay
// there; /var is an overlay whose upper layer is in the run's state folder and /run a
// tmpfs, so what components write under default paths (CNI caches, /var/log/containers,
// network namespace files) never reaches the host. When the init dies, the kernel kills
// every process of the PID namespace and the namespaces go, and with them the veth pair
// and the host routes through it.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { ManagedProcess } from "./managed-process.ts";
import { pidNamespaceOf } from "./host-state.ts";
import { clusterNetwork } from "./node-config.ts";

const exec = promisify(execFile);

export class ClusterNamespace {
  private holder?: ManagedProcess;
  /** The namespaces' init, as the host sees it. */
  initPid = 0;
  pidNamespace = "";

  private readonly pauseBinary: string;
  private readonly stateDir: string;
  private readonly logDir: string;

  constructor(pauseBinary: string, stateDir: string, logDir: string) {
    this.pauseBinary = pauseBinary;
    this.stateDir = stateDir;
    this.logDir = logDir;
  }

  /** `nsenter` into the namespaces: prefix for a command that must run inside. */
  get launcher(): string[] {
    return ["nsenter", `--target=${this.initPid}`, "--net", "--mount", "--pid", "--"];
  }

  async start(): Promise<void> {
    // KILL, not TERM: unshare ignores TERM while it waits, and the init must go at once.
    this.holder = new ManagedProcess({
      name: "namespaces",
      command: "unshare",
      args: ["--pid", "--fork", "--kill-child", "--mount", "--net", "--propagation", "private", "--mount-proc", this.pauseBinary],
      logFile: join(this.logDir, "namespaces.log"),
      stopSignal: "KILL",
    });
    this.initPid = await this.findInit();
    this.pidNamespace = pidNamespaceOf(this.initPid) ?? "";
    const n = clusterNetwork;
    await exec("ip", ["link", "add", n.hostInterface, "type", "veth", "peer", "name", "eth0", "netns", String(this.initPid)]);
    await exec("ip", ["address", "add", `${n.hostAddress}/${n.linkPrefixLength}`, "dev", n.hostInterface]);
    await exec("ip", ["link", "set", n.hostInterface, "up"]);
    const upper = join(this.stateDir, "var", "upper");
    const work = join(this.stateDir, "var", "work");
    mkdirSync(upper, { recursive: true });
    mkdirSync(work, { recursive: true });
    await this.run(`set -e
ip link set lo up
ip address add ${n.nodeAddress}/${n.linkPrefixLength} dev eth0
ip link set eth0 up
# Node processes (the API server calling webhooks) dial ClusterIPs; kube-proxy's OUTPUT
# DNAT re-routes them, but the first lookup needs a route. No default route: nothing else
# has a way out, and the host routes the range straight back.
ip route add ${n.serviceCidr} dev eth0
echo 1 > /proc/sys/net/ipv4/ip_forward
# Sockets orphaned when everything is killed at once hold the namespace until they give up.
echo 1 > /proc/sys/net/ipv4/tcp_orphan_retries
echo 2 > /proc/sys/net/ipv4/tcp_fin_timeout
mount -t overlay overlay -o lowerdir=/var,upperdir=${upper},workdir=${work} /var
mount -t tmpfs -o mode=755 tmpfs /run`);
    // The host reaches pods and Services through the veth; the routes go with the interface.
    for (const cidr of [n.podCidr, n.serviceCidr]) {
      await exec("ip", ["route", "add", cidr, "via", n.nodeAddress, "dev", n.hostInterface]);
    }
  }

  /** Runs a shell script inside the namespaces and returns its output. */
  async run(script: string): Promise<string> {
    const [command, ...args] = this.launcher as [string, ...string[]];
    const { stdout } = await exec(command, [...args, "sh", "-c", script], { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  }

  /** Kills the init (and so everything inside). */
  async stop(): Promise<void> {
    await this.holder?.stop(5_000);
  }

  private async findInit(): Promise<number> {
    const deadline = Date.now() + 10_000;
    const guard = this.holder?.pid;
    while (Date.now() < deadline) {
      // guard (sh) → unshare → init
      for (const unshare of childrenOf(guard)) {
        if (readComm(unshare) !== "unshare") continue;
        const [init] = childrenOf(unshare);
        if (init !== undefined && readComm(init) === "pause") return init;
      }
      if (this.holder && !this.holder.running) throw new Error(`unshare exited: ${readFileSync(this.holder.logFile, "utf8")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("the cluster's namespaces did not come up within 10 s");
  }
}

function childrenOf(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function readComm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}
