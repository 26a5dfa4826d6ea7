// Propagation section of `make bench` (issue 5): the time from applying a changed
// McpPolicy to the API server until sidecars enforce it, at 1, 100 and 1,000 policy
// streams, and the operator's RSS with 1,000 streams and 1,000 policies. A benchmark,
// not a test.
//
// Real parts: etcd + kube-apiserver (the test harness's), the operator as its own
// process (`mcp-warden operator`, so its RSS is its own), Pods and pod-bound tokens from
// TokenRequest (every stream is TokenReviewed). Simulated: the sidecars, as stream
// clients in this one process that read the SSE, parse each bundle and ack it as a
// sidecar does. Compiling a bundle is each sidecar's own work, in its own process; done
// here 1,000 times in a row it would measure this process, not propagation. So the
// figures are "delivered" (the bundle parsed by every client) plus the time one sidecar
// takes to compile that bundle (readPolicyBundle, measured separately): "enforced".
//
// Run alone: node bench/propagation.ts
//   MCPWARDEN_BENCH_STREAMS=1000:5        only these stream counts (count:rounds, comma-separated)
//   MCPWARDEN_BENCH_OPERATOR_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"   node flags for the operator

import { spawn } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { allPolicyEngines } from "../policy/all-engines.ts";
import { readPolicyBundle } from "../policy/index.ts";
import { freePort } from "../test/harness/free-port.ts";
import { rssMb, shippedCliScript } from "./bench-process.ts";
import { quantile } from "./text-table.ts";
import {
  applyPolicy as applyPolicyIn,
  inBatches,
  operatorHeapMb,
  sleep,
  startBenchCluster,
  startOperatorProcess,
  until,
  waitReady,
  type Kube,
  type OperatorProcess,
} from "./kube-bench-cluster.ts";

/** What a sidecar would have loaded for these bundles (their policies use CEL and schemas). */
const ENGINES = allPolicyEngines();

export interface PropagationBenchOptions {
  /** Stream counts, each with the number of policy edits timed. */
  streams: { count: number; rounds: number }[];
  /** McpPolicies in the cluster (one of them selects the streams' pods). */
  policies: number;
  /** Extra node flags for the operator, e.g. a heap limit as a container would impose. */
  operatorNodeFlags?: string[];
}

const DEFAULT_PROPAGATION_BENCH: PropagationBenchOptions = {
  streams: [
    { count: 1, rounds: 20 },
    { count: 100, rounds: 10 },
    { count: 1000, rounds: 5 },
  ],
  policies: 1000,
};

interface PropagationFigures {
  streams: number;
  samples: number;
  /** Applied with server-side apply → the new bundle parsed by the client. */
  delivered: { p50Ms: number; p99Ms: number; maxMs: number };
  /** delivered + one sidecar compiling the bundle. */
  enforced: { p50Ms: number; p99Ms: number };
  /** Until status.targets.inSync counted every stream again (acks, annotations, status), median. */
  statusConvergedMs: number;
  /** The operator's own share: policy event → bundles written to every stream (its push histogram, mean). */
  operatorPushMeanMs: number;
}

export interface PropagationResult {
  method: string;
  policies: number;
  runs: PropagationFigures[];
  /** A real sidecar process (the shipped build, --control-plane) from spawn to /readyz, i.e. to its first bundle compiled and enforced. */
  sidecarToFirstBundle: { rounds: number; medianMs: number; samplesMs: number[] };
  /** readPolicyBundle on the edited bundle, median of 50. */
  compileMs: number;
  operatorRssMb: { idle: number; at1000Streams: number };
  /** V8 heap used and total, and memory outside it (Buffers, TLS), at 1,000 streams. */
  operatorMemoryMbAt1000Streams: { heapUsed: number; heapTotal: number; external: number };
  goal: string;
  goalMet: boolean;
}

const NAMESPACE = "bench";
const SELECTOR = { matchLabels: { app: "bench-mcp" } };

export async function runPropagationBench(options: PropagationBenchOptions = DEFAULT_PROPAGATION_BENCH): Promise<PropagationResult> {
  const maxStreams = Math.max(...options.streams.map((run) => run.count));
  const cluster = await startBenchCluster("propagation", NAMESPACE);
  const { cp, kube, stateDir } = cluster;
  const sources: StreamClient[] = [];
  let operator: OperatorProcess | undefined;
  let acks: AckSender | undefined;
  try {
    await kube("POST", `/api/v1/namespaces/${NAMESPACE}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "bench" } });

    console.log(`[bench] propagation: ${options.policies} policies, ${maxStreams} pods and tokens`);
    await inBatches(options.policies, 16, (i) => applyPolicy(kube, i === 0 ? "bench" : `other-${i}`, i === 0 ? benchSpec(0) : otherSpec(i)));
    const tokenDir = join(stateDir, "tokens");
    mkdirSync(tokenDir);
    const pods: { name: string; uid: string }[] = [];
    await inBatches(maxStreams, 16, async (i) => {
      const name = `bench-mcp-${i}`;
      const pod = (await kube("POST", `/api/v1/namespaces/${NAMESPACE}/pods`, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, labels: { app: "bench-mcp", "mcpwarden.dev/injected": "true" }, annotations: { "mcpwarden.dev/upstream-port": "8080" } },
        spec: { serviceAccountName: "bench", containers: [{ name: "server", image: "bench" }] },
      })) as { metadata: { uid: string } };
      pods[i] = { name, uid: pod.metadata.uid };
      const token = (await kube("POST", `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/bench/token`, {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { audiences: ["mcpwarden.dev"], expirationSeconds: 7200, boundObjectRef: { kind: "Pod", apiVersion: "v1", name, uid: pod.metadata.uid } },
      })) as { status: { token: string } };
      writeFileSync(join(tokenDir, name), token.status.token);
    });

    operator = await startOperatorProcess(cp, stateDir, options.operatorNodeFlags);
    const { streamPort, adminPort, caPem } = operator;
    await waitReady(`http://127.0.0.1:${adminPort}/readyz`, operator);
    const idleRss = rssMb(operator.pid);
    const sidecarToFirstBundle = await timeSidecarToFirstBundle(`https://127.0.0.1:${streamPort}`, caPem, join(tokenDir, pods[0]!.name), stateDir);
    console.log(`[bench] propagation: a sidecar process (the shipped build) from start to its first enforced bundle from the stream: median ${sidecarToFirstBundle.medianMs} ms`);

    const runs: PropagationFigures[] = [];
    let generation = 0;
    let rssAt1000 = Number.NaN;
    let compileMs = Number.NaN;
    let heapAt1000 = { heapUsed: Number.NaN, heapTotal: Number.NaN, external: Number.NaN };
    acks = new AckSender(`https://127.0.0.1:${streamPort}`, caPem);
    const ackSender = acks;
    for (const { count, rounds } of [...options.streams].sort((a, b) => a.count - b.count)) {
      while (sources.length < count) {
        const index = sources.length;
        sources.push(new StreamClient(`https://127.0.0.1:${streamPort}`, readFileSync(join(tokenDir, pods[index]!.name), "utf8"), caPem, ackSender));
        if (index % 50 === 49) await sleep(50); // do not connect a thousand at the very same instant
      }
      await until(() => sources.every((source) => source.revision !== undefined), 120_000, `${count} streams to receive their first bundle`);
      // The first edit, too, starts from a quiet operator: every first ack recorded.
      await until(async () => (await inSync(kube)) === count, 180_000, `status to count ${count} pods in sync`);
      console.log(`[bench] propagation: ${count} streams connected; timing ${rounds} edits`);
      const samples: number[] = [];
      const converged: number[] = [];
      const pushBefore = await pushTotals(adminPort);
      for (let round = 0; round < rounds; round++) {
        const before = sources.map((source) => source.revision);
        generation++;
        const started = performance.now();
        await applyPolicy(kube, "bench", benchSpec(generation));
        await until(() => sources.every((source, i) => source.revision !== before[i]), 60_000, `${count} streams to enforce edit ${round + 1}`);
        for (const source of sources) samples.push(source.receivedAt - started);
        // The next edit starts from a quiet operator: every ack recorded, status written.
        await until(async () => (await inSync(kube)) === count, 180_000, `status to count ${count} pods in sync`).catch(async (error: unknown) => {
          if (process.env.BENCH_DEBUG) {
            for (const [i, source] of sources.entries()) {
              const pod = (await kube("GET", `/api/v1/namespaces/${NAMESPACE}/pods/${pods[i]!.name}`)) as { metadata: { annotations?: Record<string, string> } };
              const applied = pod.metadata.annotations?.["mcpwarden.dev/applied-revision"];
              if (applied !== source.revision) console.log(`behind: ${pods[i]!.name} annotation ${applied} client ${source.revision}`);
            }
          }
          throw error;
        });
        converged.push(performance.now() - started);
      }
      compileMs = compileTime(sources[0]!.lastBundle);
      const pushAfter = await pushTotals(adminPort);
      runs.push({
        ...summarise(count, samples, compileMs),
        statusConvergedMs: Math.round(quantile([...converged], 0.5)),
        operatorPushMeanMs: Math.round(((pushAfter.sum - pushBefore.sum) / Math.max(1, pushAfter.count - pushBefore.count)) * 10_000) / 10,
      });
      const figures = runs.at(-1)!;
      console.log(`[bench] propagation: ${count} streams: delivered p50 ${figures.delivered.p50Ms} ms, p99 ${figures.delivered.p99Ms} ms; enforced p99 ${figures.enforced.p99Ms} ms`);
      if (count === 1000) {
        rssAt1000 = rssMb(operator.pid);
        heapAt1000 = await operatorHeapMb(adminPort);
      }
    }
    const at1000 = runs.find((figures) => figures.streams === 1000);
    return {
      method:
        "operator as its own process against a real kube-apiserver; edits applied with server-side apply; sidecars simulated by stream clients in the benchmark process (TokenReviewed, bundle parsed, acked); enforced = delivered + one bundle compile",
      policies: options.policies,
      runs,
      compileMs,
      sidecarToFirstBundle,
      operatorRssMb: { idle: idleRss, at1000Streams: rssAt1000 },
      operatorMemoryMbAt1000Streams: heapAt1000,
      goal: "p99 < 250 ms at 1,000 streams",
      goalMet: at1000 !== undefined && at1000.enforced.p99Ms < 250,
    };
  } catch (error) {
    if (operator !== undefined) console.error(`[bench] propagation: the operator ${operator.exited() ? "exited" : "is running"}; its last output:\n${operator.output()}`);
    throw error;
  } finally {
    for (const source of sources) source.close();
    await acks?.close();
    if (operator !== undefined) await operator.stop();
    await cluster.stop();
  }
}

/** A sidecar's end of the stream, minus compiling: SSE in, bundle parsed, ack out, reconnect on failure. */
class StreamClient {
  revision: string | undefined;
  receivedAt = Number.NaN;
  lastBundle = "";
  #request: ReturnType<typeof httpsRequest> | undefined;
  #closed = false;
  #failures = 0;
  #acking = false;
  #acked: string | undefined;
  #ackFailures = 0;

  constructor(url: string, token: string, caPem: string, acks: AckSender) {
    this.#connect(url, token, caPem, acks);
  }

  close(): void {
    this.#closed = true;
    this.#request?.destroy();
  }

  #connect(url: string, token: string, caPem: string, acks: AckSender): void {
    if (this.#closed) return;
    const retry = (): void => {
      if (this.#closed) return;
      const delay = Math.min(5_000, 200 * 2 ** this.#failures++) * (0.5 + Math.random() / 2);
      setTimeout(() => this.#connect(url, token, caPem, acks), delay);
    };
    const request = httpsRequest(`${url}/v1/stream`, { ca: caPem, agent: false, headers: { authorization: `Bearer ${token}` } }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        return retry();
      }
      let buffer = "";
      response.setEncoding("utf8");
      response.on("end", retry);
      response.on("data", (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!frame.startsWith("event: bundle\n")) continue;
          const data = frame.slice(frame.indexOf("data: ") + 6);
          const revision = (JSON.parse(data) as { revision: string }).revision;
          this.#failures = 0;
          if (revision === this.revision) continue; // the same bundle again, after a reconnect
          this.receivedAt = performance.now();
          this.revision = revision;
          this.lastBundle = data;
          // Real sidecars ack from their own processes, each after its own compile; here
          // the acks are spread over 100 ms so they do not queue behind each other's reads.
          this.#ackFailures = 0;
          setTimeout(() => this.#ack(token, acks), Math.random() * 100);
        }
      });
    });
    request.on("error", () => retry());
    request.end();
    this.#request = request;
  }

  /** As the sidecar does: one ack in flight, always for the revision in force, a few retries. */
  #ack(token: string, acks: AckSender): void {
    if (this.#acking || this.#acked === this.revision) return;
    this.#acking = true;
    const revision = this.revision as string;
    void acks.send(token, revision).then((ok) => {
      this.#acking = false;
      if (ok) this.#acked = revision;
      else if (++this.#ackFailures > 4) return;
      setTimeout(() => this.#ack(token, acks), ok ? 0 : 250);
    });
  }
}

/**
 * Acks go out from a worker thread: real sidecars ack from their own processes, and here
 * the acks' TLS handshakes would otherwise hold up this thread's reading of the other
 * streams, which is what "delivered" measures.
 */
class AckSender {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, (ok: boolean) => void>();
  #next = 0;

  constructor(url: string, caPem: string) {
    this.#worker = new Worker(ACK_WORKER, { eval: true, workerData: { url, caPem } });
    this.#worker.on("message", ({ id, ok, error }: { id: number; ok: boolean; error?: string }) => {
      if (error !== undefined && process.env.BENCH_DEBUG) console.log(`ack failed: ${error}`);
      this.#waiting.get(id)?.(ok);
      this.#waiting.delete(id);
    });
    this.#worker.unref();
  }

  send(token: string, revision: string): Promise<boolean> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#worker.postMessage({ id, token, revision });
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

const ACK_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { Agent, request } = require("node:https");
const agent = new Agent({ ca: workerData.caPem, keepAlive: true, maxSockets: 64 });
parentPort.on("message", ({ id, token, revision }) => {
  const ack = request(workerData.url + "/v1/ack", { method: "POST", agent, headers: { authorization: "Bearer " + token, "content-type": "application/json" } }, (reply) => {
    reply.resume();
    parentPort.postMessage({ id, ok: reply.statusCode === 204 });
  });
  ack.on("error", (error) => parentPort.postMessage({ id, ok: false, error: error.message }));
  ack.end(JSON.stringify({ revision }));
});
`;

function compileTime(bundle: string): number {
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const started = performance.now();
    const result = readPolicyBundle(JSON.parse(bundle), ENGINES);
    times.push(performance.now() - started);
    if (!result.ok) throw new Error("the bench bundle does not compile");
  }
  return Math.round((times.sort((a, b) => a - b)[25] ?? 0) * 100) / 100;
}

function benchSpec(generation: number): Record<string, unknown> {
  // Each edit changes a limit, so the bundle (and its revision) changes.
  return {
    selector: SELECTOR,
    default: "deny",
    hide: ["debug_*"],
    tools: {
      list_runs: {},
      run_test_iteration: { reason: "shared mock API", limits: [{ counter: "runs", window: "minute", max: 10 + generation, scope: "grant" }] },
      get_run_logs: { arguments: { type: "object", properties: { run_id: { type: "string", pattern: "^r-[0-9]+$" } }, required: ["run_id"] } },
      "deploy_*": { action: "deny", reason: "not from agents" },
      search: { when: "args.query.size() < 200" },
    },
  };
}

function otherSpec(i: number): Record<string, unknown> {
  return {
    selector: { matchLabels: { app: `other-${i % 50}` } },
    default: "deny",
    tools: { [`tool_${i}`]: { limits: [{ counter: `c${i}`, window: "hour", max: 100 }] }, "read_*": {}, write: { action: "deny" } },
  };
}

async function pushTotals(adminPort: number): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const read = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1] ?? Number.NaN);
  return { sum: read("mcpwarden_operator_push_duration_seconds_sum"), count: read("mcpwarden_operator_push_duration_seconds_count") };
}

function applyPolicy(kube: Kube, name: string, spec: Record<string, unknown>): Promise<unknown> {
  return applyPolicyIn(kube, NAMESPACE, name, spec);
}

async function inSync(kube: Kube): Promise<number> {
  const policy = (await kube("GET", `/apis/mcpwarden.dev/v1alpha1/namespaces/${NAMESPACE}/mcppolicies/bench`)) as {
    metadata: { generation?: number };
    status?: { observedGeneration?: number; targets?: { inSync?: number } };
  };
  await sleep(100);
  if (process.env.BENCH_DEBUG) console.log(JSON.stringify(policy.status?.targets));
  // A status from before the edit still counts every pod in sync with the old revision.
  if (policy.status?.observedGeneration !== policy.metadata.generation) return 0;
  return policy.status?.targets?.inSync ?? 0;
}

function summarise(streams: number, samples: number[], compileMs: number): Omit<PropagationFigures, "statusConvergedMs" | "operatorPushMeanMs"> {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (value: number): number => Math.round(value * 10) / 10;
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return {
    streams,
    samples: sorted.length,
    delivered: { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(sorted.at(-1) ?? Number.NaN) },
    enforced: { p50Ms: round(at(0.5) + compileMs), p99Ms: round(at(0.99) + compileMs) },
  };
}

/** The defaults, with MCPWARDEN_BENCH_STREAMS and MCPWARDEN_BENCH_OPERATOR_FLAGS applied (see the header). */
function propagationBenchOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): PropagationBenchOptions {
  const streams = (env["MCPWARDEN_BENCH_STREAMS"] ?? "")
    .split(",")
    .filter((entry) => entry.trim() !== "")
    .map((entry) => {
      const [count, rounds] = entry.split(":").map(Number);
      if (!Number.isInteger(count) || !Number.isInteger(rounds) || (count as number) < 1 || (rounds as number) < 1) {
        throw new Error(`MCPWARDEN_BENCH_STREAMS: ${entry} is not count:rounds`);
      }
      return { count: count as number, rounds: rounds as number };
    });
  const flags = (env["MCPWARDEN_BENCH_OPERATOR_FLAGS"] ?? "").split(/\s+/).filter((flag) => flag !== "");
  return {
    ...DEFAULT_PROPAGATION_BENCH,
    ...(streams.length > 0 ? { streams } : {}),
    ...(flags.length > 0 ? { operatorNodeFlags: flags } : {}),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = await runPropagationBench(propagationBenchOptionsFromEnv());
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}

/**
 * Process start of `mcp-warden sidecar --control-plane` (the shipped build, as a pod runs
 * it) until /readyz answers 200: connected, TokenReviewed, first bundle received and
 * compiled. No state directory, so each start waits for the stream.
 */
async function timeSidecarToFirstBundle(streamUrl: string, caPem: string, tokenFile: string, stateDir: string, rounds = 5): Promise<{ rounds: number; medianMs: number; samplesMs: number[] }> {
  const caFile = join(stateDir, "sidecar-ca.pem");
  writeFileSync(caFile, caPem);
  const samplesMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const adminPort = await freePort();
    const started = performance.now();
    const child = spawn(process.execPath, [shippedCliScript(), "sidecar", "--listen", "127.0.0.1:0", "--admin", `127.0.0.1:${adminPort}`, "--upstream", "http://127.0.0.1:9/mcp", "--control-plane", streamUrl, "--control-plane-ca", caFile, "--token-file", tokenFile, "--log-level", "warn"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (data: Buffer) => (stderr += data.toString()));
    try {
      await until(async () => {
        if (child.exitCode !== null) throw new Error(`the sidecar exited with ${child.exitCode}: ${stderr}`);
        return (await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined))?.status === 200;
      }, 30_000, "the sidecar to enforce its first bundle");
      samplesMs.push(Math.round(performance.now() - started));
    } finally {
      child.kill("SIGKILL");
      await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once("exit", resolve)));
    }
  }
  return { rounds, medianMs: quantile([...samplesMs], 0.5), samplesMs };
}
