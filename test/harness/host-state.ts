// What the local cluster changes on the host, written down before it changes it, so that
// the same code puts the host back after a normal stop, a Ctrl-C, or — at the next start —
// a run that was killed: sysctls the kubelet rewrites, the cgroup tree the kubelet and
// runc fill, the host end of the veth pair (its routes go with it) and the namespaces'
// processes. The record and the one-cluster-per-machine lock live in /run, whose
// contents a reboot clears together with everything they describe.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const runtimeDir = "/run/mcp-warden";
const lockFile = join(runtimeDir, "cluster.lock");
const recordFile = join(runtimeDir, "cluster.json");
const cgroupMount = "/sys/fs/cgroup";

/** Host-wide settings the kubelet (or anything else the node runs) may rewrite. */
const recordedSysctls = [
  "kernel/panic",
  "kernel/panic_on_oops",
  "kernel/keys/root_maxkeys",
  "kernel/keys/root_maxbytes",
  "vm/overcommit_memory",
  "vm/panic_on_oom",
  "net/ipv4/ip_forward",
  "net/bridge/bridge-nf-call-iptables",
  "net/bridge/bridge-nf-call-ip6tables",
];

export interface HostRecord {
  /** Who runs the cluster, for the message a second start prints. */
  owner: { pid: number; command: string; cwd: string; startedAt: string };
  sysctls: Record<string, string>;
  /** cgroup folders made for the node (deepest last), removed deepest first. */
  cgroups: string[];
  hostInterface: string;
  /** The namespaces' init (a `pause`), identified by pid and the PID namespace it leads. */
  namespaceInit?: { pid: number; pidNamespace: string };
  stateDir: string;
}

export class ClusterLockedError extends Error {}

/**
 * Holds the machine's cluster lock for as long as this process lives: a `flock` child
 * keeps it while our pipe to it stays open, so a killed run releases it at once.
 */
export class ClusterLock {
  private readonly holder: ChildProcess;

  private constructor(holder: ChildProcess) {
    this.holder = holder;
  }

  static async acquire(): Promise<ClusterLock> {
    mkdirSync(runtimeDir, { recursive: true, mode: 0o755 });
    // Its own process group: a terminal's Ctrl-C must not release the lock before we have stopped.
    const holder = spawn("flock", ["--nonblock", "--conflict-exit-code", "75", lockFile, "sh", "-c", "echo locked; exec cat >/dev/null"], {
      stdio: ["pipe", "pipe", "inherit"],
      detached: true,
    });
    const outcome = await new Promise<"locked" | number>((resolve) => {
      holder.stdout?.once("data", () => resolve("locked"));
      holder.once("exit", (code) => resolve(code ?? 1));
      holder.once("error", () => resolve(1));
    });
    if (outcome === "locked") {
      holder.stdout?.destroy();
      return new ClusterLock(holder);
    }
    if (outcome === 75) throw new ClusterLockedError(lockedMessage());
    throw new Error(`could not take the cluster lock ${lockFile} (flock exited ${outcome})`);
  }

  /** Ends the holder and resolves once it is gone (and the lock with it). */
  release(): Promise<void> {
    if (this.holder.exitCode !== null || this.holder.signalCode !== null) return Promise.resolve();
    const gone = new Promise<void>((resolve) => this.holder.once("exit", () => resolve()));
    this.holder.stdin?.end();
    return gone;
  }
}

function lockedMessage(): string {
  const record = readRecord();
  const who = record === undefined ? "" : ` (pid ${record.owner.pid}, \`${record.owner.command}\` in ${record.owner.cwd}, since ${record.owner.startedAt})`;
  return `another mcp-warden cluster is running on this machine${who}; stop it first (Ctrl-C where it runs) — one cluster per machine`;
}

export function readRecord(): HostRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordFile, "utf8")) as HostRecord;
  } catch {
    return undefined;
  }
}

export function writeRecord(record: HostRecord): void {
  writeFileSync(recordFile, `${JSON.stringify(record, null, 2)}\n`);
}

export function readSysctls(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of recordedSysctls) {
    try {
      values[name] = readFileSync(join("/proc/sys", name), "utf8").trim();
    } catch {
      // not on this kernel
    }
  }
  return values;
}

/** Makes `/sys/fs/cgroup/<hierarchy>/<name>` in every v1 hierarchy (cpusets filled from the root). */
export function makeCgroups(name: string): string[] {
  const made: string[] = [];
  for (const hierarchy of readdirSync(cgroupMount)) {
    const base = join(cgroupMount, hierarchy);
    if (!statSync(base).isDirectory() || !existsSync(join(base, "cgroup.procs"))) continue;
    const dir = join(base, name);
    if (!existsSync(dir)) mkdirSync(dir);
    made.push(dir);
    if (existsSync(join(dir, "cpuset.cpus"))) {
      for (const file of ["cpuset.cpus", "cpuset.mems"]) writeFileSync(join(dir, file), readFileSync(join(base, file), "utf8"));
    }
  }
  return made;
}

/** The PID namespace a process leads or lives in, or undefined when it is gone. */
export function pidNamespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** Every process of the PID namespace `ns` (seen from the host). */
function processesIn(ns: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    if (pidNamespaceOf(Number(entry)) === ns) pids.push(Number(entry));
  }
  return pids;
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

function linkExists(name: string): boolean {
  return existsSync(join("/sys/class/net", name));
}

/**
 * Puts the host back as the record says: kills what is left of the namespaces, waits for
 * the network namespace (and with it the veth pair and its routes) to go, removes the
 * cgroups, restores the sysctls, then deletes the record. Problems are returned, not thrown,
 * so one failure does not stop the rest.
 */
export async function restoreHost(record: HostRecord): Promise<string[]> {
  const problems: string[] = [];
  const init = record.namespaceInit;
  if (init !== undefined) {
    // Killing the namespace's init makes the kernel kill every process in it.
    if (pidNamespaceOf(init.pid) === init.pidNamespace) {
      try {
        process.kill(init.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    for (const pid of processesIn(init.pidNamespace)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (!(await until(() => processesIn(init.pidNamespace).length === 0, 15_000))) problems.push(`processes of the cluster's PID namespace are still running: ${processesIn(init.pidNamespace).join(", ")}`);
  }
  // The namespace can outlive its processes for minutes (orphaned TCP sockets hold it);
  // deleting the host end removes both ends and the routes through it.
  if (!(await until(() => !linkExists(record.hostInterface), 3_000))) {
    try {
      execFileSync("ip", ["link", "delete", record.hostInterface], { stdio: "ignore" });
    } catch {
      problems.push(`could not delete the interface ${record.hostInterface}`);
    }
  }
  for (const dir of record.cgroups) {
    if (!(await until(() => removeCgroupTree(dir), 10_000))) problems.push(`could not remove the cgroup ${dir}`);
  }
  const now = readSysctls();
  for (const [name, value] of Object.entries(record.sysctls)) {
    if (now[name] === value) continue;
    try {
      writeFileSync(join("/proc/sys", name), value);
    } catch (error) {
      problems.push(`could not restore ${name.replaceAll("/", ".")} to ${value}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (problems.length === 0) rmSync(recordFile, { force: true });
  return problems;
}

/** rmdir depth first; true once the tree is gone. */
function removeCgroupTree(dir: string): boolean {
  if (!existsSync(dir)) return true;
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) removeCgroupTree(join(dir, entry.name));
    }
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/** What a test compares before and after a cluster ran: nothing of it may be left. */
export interface HostSnapshot {
  processes: string[];
  mounts: string[];
  interfaces: string[];
  routes: string[];
  iptables: string[];
  sysctls: Record<string, string>;
  cgroups: string[];
}

/** Processes of the cluster's kinds, mounts, links, routes, iptables rules, sysctls and node cgroups of the host. */
export function snapshotHost(cgroupName: string, processPattern: RegExp): HostSnapshot {
  const processes: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
      if (processPattern.test(command)) processes.push(`${entry} ${command}`);
    } catch {
      // ended meanwhile
    }
  }
  const text = (command: string, args: string[]): string[] => {
    try {
      return execFileSync(command, args, { encoding: "utf8" }).split("\n").filter(Boolean);
    } catch {
      return [];
    }
  };
  return {
    processes,
    mounts: readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter(Boolean).map((line) => line.split(" ").slice(4, 5).join(" ")),
    interfaces: readdirSync("/sys/class/net").sort(),
    routes: text("ip", ["route", "show"]),
    iptables: existsSync("/usr/sbin/iptables-save") ? text("iptables-save", [])
          .filter((line) => !line.startsWith("#"))
          .map((line) => line.replace(/ \[\d+:\d+\]$/, "")) : [],
    sysctls: readSysctls(),
    cgroups: readdirSync(cgroupMount).filter((hierarchy) => existsSync(join(cgroupMount, hierarchy, cgroupName))),
  };
}
