// The local cluster as a process of its own (`cluster-main.js --e2e FILE`), for the
// end-to-end suite and `make bench`: its stdin is our pipe, so it stops when we close it
// or die, and its details arrive in FILE once it is ready.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../cli/package-root.ts";
import type { LocalClusterInfo } from "./local-cluster.ts";

interface ClusterProcessInfo extends LocalClusterInfo {
  /** The supervisor's pid (cluster-main.js). */
  pid: number;
  /** Image references by short name: operator, sidecar, demo-server (and redis with --e2e). */
  images: Record<string, string>;
}

export interface ClusterProcess {
  child: ChildProcess;
  info: ClusterProcessInfo;
  /** Closes the pipe and waits for the cluster to stop (and the host to be restored). */
  stop(): Promise<void>;
}

/** Starts the cluster in its own process group and waits until it is ready; the log goes to `logFile`. */
export async function startClusterProcess(workDir: string, logFile = join(workDir, "cluster.log")): Promise<ClusterProcess> {
  const infoFile = join(workDir, "cluster.json");
  // The child writes its log itself, so its last words survive our end.
  const log = openSync(logFile, "a");
  const child = spawn(process.execPath, [join(packageRoot(), "dist", "test", "harness", "cluster-main.js"), "--e2e", infoFile], { stdio: ["pipe", log, log], detached: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (existsSync(infoFile)) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`the local cluster did not start (exit ${child.exitCode}):\n${readFileSync(logFile, "utf8").slice(-6000)}`));
      }
    }, 250);
  });
  const info = JSON.parse(readFileSync(infoFile, "utf8")) as ClusterProcessInfo;
  return {
    child,
    info,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.stdin?.end();
      await exited;
    },
  };
}
