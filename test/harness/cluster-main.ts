// `make cluster`: a one-node Kubernetes cluster on this machine with mcp-warden installed
// from charts/mcp-warden and the demo MCP server injected, in the foreground until Ctrl-C.
// `--e2e FILE` (the end-to-end suite's global setup): the cluster and the images only,
// its details written to FILE as JSON; it stops when its standard input closes.
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseArgs } from "node:util";
import { packageRoot, packageVersion } from "../../cli/package-root.ts";
import { controlPlaneBinDir, nodeBinDir, prometheusOperatorBinDir } from "./control-plane-bin.ts";
import { ClusterLockedError } from "./host-state.ts";
import { LocalCluster, type LocalClusterInfo } from "./local-cluster.ts";
import { clusterImages, type ClusterImages } from "./cluster-images.ts";

const exec = promisify(execFile);
const { values } = parseArgs({ options: { e2e: { type: "string" } } });
const e2eInfoFile = values.e2e;

const root = packageRoot();
const cacheRoot = process.env.MCPWARDEN_CACHE ?? join(process.env.HOME ?? "/root", ".cache", "mcp-warden");
const clusterDir = join(cacheRoot, "cluster");
const log = (line: string): void => console.log(`[cluster] ${line}`);
const started = Date.now();

const node = nodeBinDir();
const images: ClusterImages = clusterImages({
  root,
  nodeBinDir: node,
  prefix: process.env.IMAGE_PREFIX,
  tag: process.env.IMAGE_TAG ?? packageVersion(),
  e2e: e2eInfoFile !== undefined,
  // The suite's monitoring stack (test/e2e/80-monitoring.test.ts).
  ...(e2eInfoFile === undefined ? {} : { monitoringBinDir: prometheusOperatorBinDir() }),
});
const cluster = new LocalCluster({
  controlPlaneBinDir: controlPlaneBinDir(),
  nodeBinDir: node,
  stateDir: join(clusterDir, "run"),
  sandboxImage: images.pause,
  corednsImage: images.coredns,
  prepareImages: async () => {
    log(`building images (${images.specs.length}; unchanged ones come from the cache)`);
    const t = Date.now();
    const archives = await images.build();
    log(`images ready in ${Math.round((Date.now() - t) / 1000)} s`);
    return archives;
  },
  log,
});

let exiting = false;
async function shutdown(reason: string, code = 0): Promise<void> {
  if (exiting) return;
  exiting = true;
  log(`${reason}: stopping the cluster`);
  const problems = await cluster.stop();
  for (const problem of problems) console.error(`[cluster] could not undo: ${problem}`);
  log(problems.length === 0 ? "stopped; the host is as it was" : "stopped, with the problems above");
  process.exit(problems.length === 0 ? code : 1);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGHUP", () => void shutdown("SIGHUP"));
if (e2eInfoFile !== undefined) {
  // The suite's global setup holds our stdin; when it ends (or dies), so do we.
  process.stdin.resume();
  process.stdin.on("end", () => void shutdown("the end-to-end suite finished"));
}

let info: LocalClusterInfo;
try {
  info = await cluster.start();
} catch (error) {
  if (error instanceof ClusterLockedError) {
    console.error(`[cluster] ${error.message}`);
    process.exit(1);
  }
  console.error(`[cluster] failed: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown("start-up failed", 1);
  throw error;
}

// Stable names for people: the kubeconfig and the binaries built for this cluster.
const kubeconfig = join(clusterDir, "kubeconfig");
copyFileSync(info.kubeconfig, kubeconfig);
const binDir = join(clusterDir, "bin");
rmSync(binDir, { recursive: true, force: true });
mkdirSync(binDir);
for (const [dir, name] of [[info.binDir, "kubectl"], [info.binDir, "helm"], [info.nodeBinDir, "crictl"]] as const) symlinkSync(join(dir, name), join(binDir, name));

if (e2eInfoFile !== undefined) {
  writeFileSync(e2eInfoFile, JSON.stringify({ ...info, kubeconfig, pid: process.pid, images: images.refs }, null, 2));
  log(`ready in ${Math.round((Date.now() - started) / 1000)} s`);
} else {
  await installDemo(info, kubeconfig);
}

async function installDemo(cp: LocalClusterInfo, config: string): Promise<void> {
  const kubectl = (...args: string[]): Promise<{ stdout: string }> => exec(cp.kubectl, [`--kubeconfig=${config}`, ...args], { cwd: root });
  try {
    log("helm install mcp-warden charts/mcp-warden");
    await exec(cp.helm, ["install", "mcp-warden", "charts/mcp-warden", "--namespace", "mcp-warden", "--create-namespace", `--kubeconfig=${config}`, "--wait", "--timeout=5m"], { cwd: root });
    log("deploying the demo MCP server (examples/demo/kubernetes/)");
    await kubectl("apply", "-f", "examples/demo/kubernetes/demo-server.yaml");
    await kubectl("apply", "-f", "examples/demo/kubernetes/policy.yaml");
    await kubectl("-n", "demo", "rollout", "status", "deployment/demo-server", "--timeout=180s");
    await kubectl("-n", "demo", "wait", "--for=condition=Programmed", "mcppolicy/demo", "--timeout=120s");
    const serviceIp = (await kubectl("-n", "demo", "get", "service", "demo-server", "-o", "jsonpath={.spec.clusterIP}")).stdout.trim();
    const podIp = (await kubectl("-n", "demo", "get", "pods", "-l", "app.kubernetes.io/name=demo-server", "-o", "jsonpath={.items[0].status.podIP}")).stdout.trim();
    const home = process.env.HOME ?? "";
    const shown = (path: string): string => (home !== "" && path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path);
    const version = /^KUBERNETES_VERSION=(\S+)$/m.exec(readFileSync(join(root, "tools", "versions.env"), "utf8"))?.[1] ?? "";
    console.log(`[cluster] ready in ${Math.round((Date.now() - started) / 1000)} s: Kubernetes ${version} at ${cp.server} on one node, mcp-warden ${packageVersion()} installed, the demo MCP server injected

  export KUBECONFIG=${shown(config)}
  export PATH=${shown(binDir)}:$PATH      # kubectl, helm and crictl built for this cluster

  kubectl get pods -A                       the demo server's pod runs 2/2: the server and the injected sidecar
  kubectl get mcpp -n demo -o wide          the demo policy: Accepted, Programmed, pods in sync
  kubectl get mcpa -n demo                  approvals the demo policy holds calls for (reset_mock_data)

  MCP endpoint  http://${serviceIp}/mcp     (Service demo/demo-server → the sidecar; Streamable HTTP;
                the demo policy knows callers by their x-agent-id header)
  metrics       http://${podIp}:9464/metrics   (the sidecar's admin port; also /healthz, /readyz)
  logs          ${shown(cp.logDir)}

  Everything runs in a network namespace of its own; this host reaches it through ${"mcpw0"}.
  Press Ctrl-C to stop: every process, mount, interface, route and setting it made goes with it.`);
  } catch (error) {
    console.error(`[cluster] ${error instanceof Error ? error.message : String(error)}\n${cluster.logTails(20)}`);
    await shutdown("installing the demo failed", 1);
  }
}
