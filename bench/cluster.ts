// Cluster section of `make bench`: on the local one-node cluster (root on Linux), how long
// bring-up takes (node and images ready; `helm install --wait`; the demo server injected
// and its policy Programmed), and the delay from `kubectl apply` of a policy edit until a
// call through the Service gets the new decision — the delay the end-to-end suite polls
// for and never asserts. A benchmark, not a test.
//
// Run alone: node dist/bench/cluster.js   (MCPWARDEN_BENCH_ROUNDS=10)

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { load } from "js-yaml";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { packageRoot } from "../cli/package-root.ts";
import { startClusterProcess } from "../test/harness/cluster-process.ts";

const exec = promisify(execFile);

export async function runClusterBench(): Promise<object> {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return { skipped: "the local cluster needs root on Linux" };
  const rounds = Number(process.env.MCPWARDEN_BENCH_ROUNDS ?? 10);
  const root = packageRoot();
  for (const group of ["node", "images"]) await exec(join(root, "tools", "ensure-system-packages.sh"), [group]);
  const workDir = mkdtempSync(join(tmpdir(), "mcp-warden-bench-cluster-"));
  const t0 = Date.now();
  const cluster = await startClusterProcess(workDir);
  const nodeReadyMs = Date.now() - t0;
  const { info } = cluster;
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const child = exec(info.kubectl, [`--kubeconfig=${info.kubeconfig}`, ...args], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  };
  try {
    let t = Date.now();
    await exec(info.helm, [`--kubeconfig=${info.kubeconfig}`, "install", "mcp-warden", "charts/mcp-warden", "-n", "mcp-warden", "--create-namespace", "--wait", "--timeout=5m"], { cwd: root });
    const helmInstallMs = Date.now() - t;
    t = Date.now();
    await kubectl(["apply", "-f", "examples/demo/kubernetes/demo-server.yaml", "-f", "examples/demo/kubernetes/policy.yaml"]);
    await kubectl(["-n", "demo", "rollout", "status", "deployment/demo-server", "--timeout=300s"]);
    await kubectl(["-n", "demo", "wait", "--for=condition=Programmed", "mcppolicy/demo", "--timeout=180s"]);
    const demoReadyMs = Date.now() - t;

    const serviceIp = (await kubectl(["-n", "demo", "get", "service", "demo-server", "-o", "jsonpath={.spec.clusterIP}"])).trim();
    const client = new Client({ name: "bench-cluster", version: "0" });
    // The demo policy names callers by this header.
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://${serviceIp}/mcp`), { requestInit: { headers: { "x-agent-id": "bench" } } }));
    const policy = load(readFileSync(join(root, "examples", "demo", "kubernetes", "policy.yaml"), "utf8")) as { spec: { tools: Record<string, unknown> } };
    const delays: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const allow = round % 2 === 0;
      if (allow) policy.spec.tools.deploy_mock_api = {};
      else delete policy.spec.tools.deploy_mock_api;
      const started = Date.now();
      await kubectl(["apply", "-f", "-"], JSON.stringify(policy));
      for (;;) {
        const result = (await client.callTool({ name: "deploy_mock_api", arguments: { version: "1" } })) as { isError?: boolean };
        if ((result.isError !== true) === allow) break;
        if (Date.now() - started > 60_000) throw new Error(`round ${round}: the edit was not enforced within 60 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      delays.push(Date.now() - started);
    }
    await client.close();
    const sorted = [...delays].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
    const result = {
      nodeReadyMs,
      helmInstallMs,
      demoReadyMs,
      applyToEnforcedMs: { rounds, median: at(0.5), p90: at(0.9), max: sorted.at(-1), all: delays },
      note: "nodeReadyMs: images built or found in the cache, the node Ready with CoreDNS; applyToEnforcedMs: kubectl apply of an edit until a call through the Service gets the new decision (polled every 20 ms)",
    };
    console.log(`[bench] cluster: node ready ${nodeReadyMs} ms, helm install ${helmInstallMs} ms, demo ready ${demoReadyMs} ms; apply → enforced median ${result.applyToEnforcedMs.median} ms, p90 ${result.applyToEnforcedMs.p90} ms, max ${result.applyToEnforcedMs.max} ms (${rounds} rounds)`);
    return result;
  } finally {
    await cluster.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify(await runClusterBench(), null, 2));
}
