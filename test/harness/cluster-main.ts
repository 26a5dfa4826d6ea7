// `make cluster`: the test control plane for people, in the foreground until Ctrl-C.
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { ControlPlane } from "./control-plane.ts";
import { controlPlaneBinDir } from "./control-plane-bin.ts";
import { packageRoot as repoRoot } from "../../cli/package-root.ts";

const root = repoRoot();
const stateDir = join(root, ".mcp-warden", "cluster");
mkdirSync(stateDir, { recursive: true });
const controlPlane = new ControlPlane({ binDir: controlPlaneBinDir(), stateDir });

let exiting = false;
async function shutdown(signal: string): Promise<void> {
  if (exiting) return;
  exiting = true;
  console.log(`\n[cluster] ${signal}: stopping kube-apiserver and etcd`);
  await controlPlane.stop();
  console.log("[cluster] stopped");
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGHUP", () => void shutdown("SIGHUP"));

console.log("[cluster] starting etcd and kube-apiserver …");
try {
  const info = await controlPlane.start();
  const rel = relative(process.cwd(), info.kubeconfig) || info.kubeconfig;
  console.log(`[cluster] ready: ${info.server}

  export KUBECONFIG=${info.kubeconfig}
  export PATH=${info.binDir}:$PATH   # kubectl and helm built for this control plane

  kubectl:  ${info.kubectl}
  helm:     ${info.helm}
  logs:     ${info.logDir}
  kubeconfig (admin, system:masters): ${rel}

  No controller-manager, scheduler or kubelet runs: objects are stored and admitted, Pods never start.
  Press Ctrl-C to stop.`);
} catch (err) {
  console.error(`[cluster] ${err instanceof Error ? err.message : String(err)}`);
  await controlPlane.stop();
  process.exit(1);
}
