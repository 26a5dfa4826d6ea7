// The local cluster as a machine sees it (local only, and last: it ends the shared
// cluster). One cluster per machine: a second `make cluster`, or `make test`, says so in
// one line and exits non-zero. The shared cluster is then killed with SIGKILL; the next
// start cleans up after it, and after that one stops on SIGINT (Ctrl-C) no process, mount,
// interface, route, iptables rule, sysctl or cgroup of the cluster is left: the host is
// as it was before the suite started.
import { expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { snapshotHost } from "../harness/host-state.ts";
import { clusterNetwork } from "../harness/node-config.ts";
import { processAlive } from "../support/process-alive.ts";
import { clusterProcessPattern, describeLocal, e2e, eventually, repoRoot, run } from "./e2e-cluster.ts";

const clusterMain = (): string => join(repoRoot(), "dist", "test", "harness", "cluster-main.js");

describeLocal("one local cluster per machine, and a host left as it was", () => {
  it("refuses a second cluster, and `make test`, in one line while one runs", async () => {
    const second = await run(process.execPath, [clusterMain()], { timeoutMs: 120_000 });
    expect(second.code).not.toBe(0);
    const lines = (second.stdout + second.stderr).trim().split("\n");
    expect(lines, second.stdout + second.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[cluster\] another mcp-warden cluster is running on this machine \(pid \d+, .*\); stop it first/);

    const test = await run("make", ["--no-print-directory", "e2e-preflight"], { timeoutMs: 120_000 });
    expect(test.code).not.toBe(0);
    expect(test.stderr.split("\n").filter((line) => line.startsWith("e2e: "))).toHaveLength(1);
    expect(test.stderr).toMatch(/^e2e: another mcp-warden cluster is running on this machine/m);
  });

  it("cleans up after a cluster killed with SIGKILL at the next start, and after Ctrl-C leaves the host as it was", async () => {
    const cluster = e2e();
    process.kill(cluster.clusterPid!, "SIGKILL");
    await eventually("the killed cluster's supervisor to be gone", async () => (processAlive(cluster.clusterPid!) ? undefined : true), 30_000);

    const infoFile = join(cluster.workDir, "restarted.json");
    const next = spawn(process.execPath, [clusterMain(), "--e2e", infoFile], { stdio: ["pipe", "pipe", "pipe"], detached: true });
    let output = "";
    next.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    next.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => next.once("exit", (code, signal) => resolve({ code, signal })));
    try {
      await eventually("the next cluster to be ready", async () => (existsSync(infoFile) ? true : next.exitCode === null ? undefined : Promise.reject(new Error(output))), 600_000);
      expect(output).toMatch(/\[cluster\] cleaning up after a cluster that did not stop \(pid \d+/);
      // Ctrl-C at a terminal sends SIGINT to the foreground process group.
      process.kill(-next.pid!, "SIGINT");
      expect(await exited, output).toEqual({ code: 0, signal: null });
    } finally {
      if (next.exitCode === null) process.kill(-next.pid!, "SIGKILL");
    }
    expect(output).toContain("[cluster] stopped; the host is as it was");

    const after = snapshotHost(clusterNetwork.cgroupName, clusterProcessPattern);
    const before = cluster.hostBefore!;
    expect(after.processes).toEqual(before.processes);
    expect(after.interfaces).toEqual(before.interfaces);
    expect(after.interfaces).not.toContain(clusterNetwork.hostInterface);
    expect(after.routes).toEqual(before.routes);
    expect(after.iptables).toEqual(before.iptables);
    expect(after.sysctls).toEqual(before.sysctls);
    expect(after.cgroups).toEqual([]);
    expect(after.mounts).toEqual(before.mounts);
  }, 900_000);
});
