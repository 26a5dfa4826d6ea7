// vitest globalSetup for the end-to-end suite: one cluster for every file.
//   local (default)          starts the local cluster (`cluster-main.js --e2e`, the program
//                            behind `make cluster`) in a process of its own, after recording
//                            the host's state for the last file to compare
//   MCPWARDEN_E2E_CONTEXT    the named context of $KUBECONFIG (or ~/.kube/config), with the
//                            images IMAGE_PREFIX/IMAGE_TAG name
//   MCPWARDEN_E2E=skip       nothing: every test is skipped and counted as such
import type { TestProject } from "vitest/node";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot, packageVersion } from "../../cli/package-root.ts";
import { controlPlaneBinDir } from "../harness/control-plane-bin.ts";
import { startClusterProcess } from "../harness/cluster-process.ts";
import { cleanUpHostBeforeSnapshot } from "../harness/local-cluster.ts";
import { snapshotHost } from "../harness/host-state.ts";
import { clusterNetwork } from "../harness/node-config.ts";
import { defaultImagePrefix } from "../harness/cluster-images.ts";
import { clusterProcessPattern, type E2eCluster } from "./e2e-cluster.ts";

declare module "vitest" {
  export interface ProvidedContext {
    e2e: E2eCluster;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const binDir = process.env.MCPWARDEN_E2E === "skip" ? "" : controlPlaneBinDir();
  const tools = { kubectl: join(binDir, "kubectl"), helm: join(binDir, "helm") };
  if (process.env.MCPWARDEN_E2E === "skip") {
    project.provide("e2e", { mode: "skip", kubeconfig: "", ...tools, images: {}, workDir: "" });
    return undefined;
  }
  const workDir = mkdtempSync(join(tmpdir(), "mcp-warden-e2e-"));
  const prefix = process.env.IMAGE_PREFIX ?? defaultImagePrefix;
  const tag = process.env.IMAGE_TAG ?? packageVersion();

  const context = process.env.MCPWARDEN_E2E_CONTEXT;
  if (context) {
    // One context, flattened: the README's commands run with plain kubectl and helm.
    const source = process.env.KUBECONFIG ?? join(homedir(), ".kube", "config");
    const kubeconfig = join(workDir, "kubeconfig");
    writeFileSync(kubeconfig, execFileSync(tools.kubectl, [`--kubeconfig=${source}`, "config", "view", "--minify", "--flatten", `--context=${context}`], { encoding: "utf8" }), { mode: 0o600 });
    const images = { operator: `${prefix}/operator:${tag}`, sidecar: `${prefix}/sidecar:${tag}`, "demo-server": `${prefix}/demo-server:${tag}`, redis: process.env.MCPWARDEN_E2E_REDIS_IMAGE ?? "redis:7" };
    project.provide("e2e", { mode: "context", kubeconfig, ...tools, images, workDir });
    console.log(`[e2e] against context ${context} with ${prefix}/*:${tag}`);
    return async () => rmSync(workDir, { recursive: true, force: true });
  }

  await cleanUpHostBeforeSnapshot((line) => console.log(`[e2e] ${line}`));
  const hostBefore = snapshotHost(clusterNetwork.cgroupName, clusterProcessPattern);
  const started = Date.now();
  const cluster = await startClusterProcess(workDir);
  const onSignal = (signal: NodeJS.Signals): void => {
    cluster.child.stdin?.end();
    setTimeout(() => process.kill(process.pid, signal), 30_000).unref();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const { info } = cluster;
  console.log(`[e2e] local cluster ready in ${Math.round((Date.now() - started) / 1000)} s (logs: ${info.logDir})`);
  project.provide("e2e", { mode: "local", kubeconfig: info.kubeconfig, ...tools, images: info.images, workDir, clusterPid: info.pid, logDir: info.logDir, namespaceInitPid: info.namespaceInitPid, hostBefore, repoRoot: packageRoot() });
  return async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    // The last file may have stopped (or killed and replaced) the cluster already.
    await cluster.stop();
    if (!process.env.MCPWARDEN_KEEP_STATE) rmSync(workDir, { recursive: true, force: true });
  };
}
