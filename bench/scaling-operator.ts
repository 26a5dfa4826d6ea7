// Scaling: the operator with 1,000 and 10,000 McpPolicies in one namespace — its memory
// after the first full reconcile, the time from its start until every policy carries the
// status of its generation, and the time one edit takes to reconcile at that size. Real
// etcd and kube-apiserver (the test harness's), the operator as its own process (its RSS
// from /proc); the benchmark watches the policies' status through the API server.
//
// Half the policies select one of 100 pods (injected, never running: no kubelet), so
// their status counts pods and their bundles are built; the other half select none.
// Every policy names an identity and its own counter (no warnings, no conflicts).
//
// Run alone: MCPWARDEN_BENCH_POLICIES=1000,10000 node bench/scaling.ts operator
//   MCPWARDEN_BENCH_OPERATOR_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"   node flags for the operator

import { request as httpsRequest } from "node:https";
import { cpuSeconds, rssMb } from "./bench-process.ts";
import { applyPolicy, inBatches, kubeClient, kubeConnection, operatorHeapMb, sleep, startBenchCluster, startOperatorProcess, until, waitReady, type Kube, type OperatorProcess } from "./kube-bench-cluster.ts";
import { printTable, ratio } from "./text-table.ts";

const NAMESPACE = "scale";
const PODS = 100;
const EDITS = 5;
const DEFAULT_COUNTS = [1_000, 10_000];

interface OperatorScalingRun {
  policies: number;
  /** Creating the policies through the API server (not the operator's work). */
  createSeconds: number;
  readyMs: number;
  /** Process start → every policy's status written for its generation. */
  fullReconcileMs: number;
  /** The operator's own CPU time (user + system) until then: the rest is the API server's and etcd's. */
  operatorCpuSeconds: number;
  /** Status writes seen through the watch until then. */
  statusWrites: number;
  accepted: number;
  programmed: Record<string, number>;
  rssMb: { afterFullReconcile: number; afterEdits: number };
  heapMb: { heapUsed: number; heapTotal: number; external: number };
  /** Applied → its status written for the new generation, each edit. */
  editMs: { p50: number; max: number; samples: number[] };
  reconcileMeanMs: number;
  reconciles: number;
}

export async function runOperatorScaling(counts: readonly number[] = DEFAULT_COUNTS): Promise<{ method: string; runs: OperatorScalingRun[] }> {
  const cluster = await startBenchCluster("scaling", NAMESPACE);
  const { cp, kube, stateDir } = cluster;
  const runs: OperatorScalingRun[] = [];
  let operator: OperatorProcess | undefined;
  let watch: PolicyStatusWatch | undefined;
  try {
    await inBatches(PODS, 16, (i) =>
      kube("POST", `/api/v1/namespaces/${NAMESPACE}/pods`, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: `mcp-${i}`, labels: { app: `group-${i}`, "mcpwarden.dev/injected": "true" }, annotations: { "mcpwarden.dev/upstream-port": "8080" } },
        spec: { containers: [{ name: "server", image: "bench" }] },
      }),
    );

    let created = 0;
    for (const count of [...counts].sort((a, b) => a - b)) {
      console.log(`[bench] scaling: creating McpPolicies ${created + 1}..${count}`);
      const createStart = performance.now();
      const from = created;
      await inBatches(count - from, 16, (i) => createPolicy(kube, from + i));
      created = count;
      const createSeconds = Math.round((performance.now() - createStart) / 100) / 10;

      watch = await PolicyStatusWatch.open(cp.kubeconfig);
      const flags = (process.env["MCPWARDEN_BENCH_OPERATOR_FLAGS"] ?? "").split(/\s+/).filter((flag) => flag !== "");
      operator = await startOperatorProcess(cp, stateDir, flags);
      const started = operator.startedAt;
      await waitReady(`http://127.0.0.1:${operator.adminPort}/readyz`, operator, 600_000);
      const readyMs = Math.round(performance.now() - started);
      const current = watch;
      await until(() => current.reconciled() >= count, 1_800_000, `status on all ${count} policies`);
      const fullReconcileMs = Math.round(current.lastReconciledAt - started);
      const cpuFullReconcile = cpuSeconds(operator.pid);
      const statusWrites = current.statusWrites;
      const rssAfterFull = rssMb(operator.pid);
      const heapMb = await operatorHeapMb(operator.adminPort);
      console.log(`[bench] scaling: ${count} policies reconciled ${fullReconcileMs} ms after the operator started (RSS ${rssAfterFull} MB); timing ${EDITS} edits`);

      const editSamples: number[] = [];
      for (let edit = 1; edit <= EDITS; edit++) {
        await sleep(1_000); // from a quiet operator
        const name = policyName(Math.floor((count * edit) / (EDITS + 1)));
        const before = current.generation(name);
        const editStart = performance.now();
        await applyPolicy(kube, NAMESPACE, name, policySpec(Number(name.slice(2)), edit));
        await until(() => current.statusGeneration(name) > before, 600_000, `the status of edited ${name}`);
        editSamples.push(Math.round(current.statusAt(name) - editStart));
      }
      const reconcile = await reconcileTotals(operator.adminPort);
      editSamples.sort((a, b) => a - b);
      runs.push({
        policies: count,
        createSeconds,
        readyMs,
        fullReconcileMs,
        operatorCpuSeconds: Math.round(cpuFullReconcile * 10) / 10,
        statusWrites,
        accepted: current.count((status) => status.accepted === "True"),
        programmed: current.programmedReasons(),
        rssMb: { afterFullReconcile: rssAfterFull, afterEdits: rssMb(operator.pid) },
        heapMb,
        editMs: { p50: editSamples[Math.floor(editSamples.length / 2)] ?? Number.NaN, max: editSamples.at(-1) ?? Number.NaN, samples: editSamples },
        reconcileMeanMs: Math.round((reconcile.sum / Math.max(1, reconcile.count)) * 10_000) / 10,
        reconciles: reconcile.count,
      });
      await operator.stop();
      operator = undefined;
      watch.close();
      watch = undefined;
    }
  } catch (error) {
    if (operator !== undefined) console.error(`[bench] scaling: the operator ${operator.exited() ? "exited" : "is running"}; its last output:\n${operator.output()}`);
    throw error;
  } finally {
    watch?.close();
    if (operator !== undefined) await operator.stop();
    await cluster.stop();
  }
  printOperatorScaling(runs);
  return {
    method: `operator as its own process against a real kube-apiserver; policies created before it starts, all in one namespace with ${PODS} injected pods (never running); half the policies select one pod each, half none; status observed through a watch; edits by server-side apply, one at a time from a quiet operator`,
    runs,
  };
}

function printOperatorScaling(runs: readonly OperatorScalingRun[]): void {
  const base = runs[0];
  printTable(
    "scaling: the operator by McpPolicy count (one namespace; from process start)",
    ["policies", "ready ms", "all status ms", "×", "per policy ms", "operator CPU s", "×", "status writes", "RSS MB", "heap used MB", "edit p50 ms", "max", "×", "reconcile mean ms", "Accepted", "Programmed"],
    runs.map((r) => [
      r.policies.toLocaleString("en"),
      String(r.readyMs),
      String(r.fullReconcileMs),
      ratio(r.fullReconcileMs, base?.fullReconcileMs ?? Number.NaN),
      (r.fullReconcileMs / r.policies).toFixed(2),
      r.operatorCpuSeconds.toFixed(1),
      ratio(r.operatorCpuSeconds, base?.operatorCpuSeconds ?? Number.NaN),
      r.statusWrites.toLocaleString("en"),
      String(r.rssMb.afterFullReconcile),
      String(r.heapMb.heapUsed),
      String(r.editMs.p50),
      String(r.editMs.max),
      ratio(r.editMs.p50, base?.editMs.p50 ?? Number.NaN),
      r.reconcileMeanMs.toFixed(1),
      String(r.accepted),
      Object.entries(r.programmed)
        .map(([reason, n]) => `${reason} ${n}`)
        .join(", "),
    ]),
    [
      `all status: until every policy's status names its generation (Accepted and Programmed written); Programmed is Pending where a selected pod has no sidecar that acked (no pods run here).`,
      `operator CPU: the operator process's user + system time from its start to that point (the rest of the wait is the API server's and etcd's, on the same 2 cores).`,
      `edit: server-side apply of one policy until its status names the new generation; ×: against the first row.`,
    ],
  );
}

function policyName(index: number): string {
  return `p-${String(index).padStart(5, "0")}`;
}

function policySpec(index: number, generation = 0): Record<string, unknown> {
  const selects = index % 2 === 0 ? `group-${(index / 2) % PODS}` : `none-${index % 50}`;
  return {
    selector: { matchLabels: { app: selects } },
    default: "deny",
    identity: { source: "header", header: "x-agent-id" },
    hide: ["debug_*"],
    tools: {
      [`tool_${index}`]: { limits: [{ counter: `c${index}`, window: "hour", max: 100 + generation }] },
      "read_*": {},
      write: { action: "deny", reason: "read-only agents" },
    },
  };
}

function createPolicy(kube: Kube, index: number): Promise<unknown> {
  return kube("POST", `/apis/mcpwarden.dev/v1alpha1/namespaces/${NAMESPACE}/mcppolicies`, {
    apiVersion: "mcpwarden.dev/v1alpha1",
    kind: "McpPolicy",
    metadata: { name: policyName(index), namespace: NAMESPACE },
    spec: policySpec(index),
  });
}

async function reconcileTotals(adminPort: number): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const read = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1] ?? Number.NaN);
  return { sum: read("mcpwarden_operator_reconcile_duration_seconds_sum"), count: read("mcpwarden_operator_reconcile_duration_seconds_count") };
}

interface PolicyState {
  generation: number;
  /** observedGeneration of the status's conditions (both Accepted and Programmed), or -1. */
  statusGeneration: number;
  statusAt: number;
  accepted: string | undefined;
  programmedReason: string | undefined;
  statusText: string;
}

interface PolicyObject {
  metadata: { name: string; generation?: number; resourceVersion?: string };
  status?: { conditions?: { type: string; status: string; reason: string; observedGeneration?: number }[] };
}

/** The namespace's McpPolicies as the API server has them: one list, then a watch. */
class PolicyStatusWatch {
  readonly #states = new Map<string, PolicyState>();
  #reconciled = 0;
  #closed = false;
  #failure: string | undefined;
  #request: ReturnType<typeof httpsRequest> | undefined;
  lastReconciledAt = Number.NaN;
  /** Watch events that changed a policy's status and not its generation: the operator's status writes. */
  statusWrites = 0;

  static async open(kubeconfig: string): Promise<PolicyStatusWatch> {
    const watch = new PolicyStatusWatch();
    const list = (await kubeClient(kubeconfig)("GET", `/apis/mcpwarden.dev/v1alpha1/namespaces/${NAMESPACE}/mcppolicies`)) as { metadata: { resourceVersion: string }; items: PolicyObject[] };
    for (const item of list.items) watch.#update(item);
    watch.#follow(kubeconfig, list.metadata.resourceVersion);
    return watch;
  }

  /** How many policies carry the status of their generation (throws once the watch has failed). */
  reconciled(): number {
    if (this.#failure !== undefined) throw new Error(this.#failure);
    return this.#reconciled;
  }

  generation(name: string): number {
    return this.#states.get(name)?.generation ?? 0;
  }

  statusGeneration(name: string): number {
    if (this.#failure !== undefined) throw new Error(this.#failure);
    return this.#states.get(name)?.statusGeneration ?? -1;
  }

  statusAt(name: string): number {
    return this.#states.get(name)?.statusAt ?? Number.NaN;
  }

  count(predicate: (state: PolicyState) => boolean): number {
    let n = 0;
    for (const state of this.#states.values()) if (predicate(state)) n++;
    return n;
  }

  programmedReasons(): Record<string, number> {
    const reasons: Record<string, number> = {};
    for (const state of this.#states.values()) reasons[state.programmedReason ?? "none"] = (reasons[state.programmedReason ?? "none"] ?? 0) + 1;
    return reasons;
  }

  close(): void {
    this.#closed = true;
    this.#request?.destroy();
  }

  #update(object: PolicyObject): void {
    const name = object.metadata.name;
    const conditions = object.status?.conditions ?? [];
    const accepted = conditions.find((condition) => condition.type === "Accepted");
    const programmed = conditions.find((condition) => condition.type === "Programmed");
    const generation = object.metadata.generation ?? 0;
    const statusGeneration = accepted === undefined || programmed === undefined ? -1 : Math.min(accepted.observedGeneration ?? -1, programmed.observedGeneration ?? -1);
    const previous = this.#states.get(name);
    const wasReconciled = previous !== undefined && previous.statusGeneration === previous.generation;
    const isReconciled = statusGeneration === generation;
    const statusChanged = previous === undefined || previous.statusGeneration !== statusGeneration;
    if (previous !== undefined && previous.generation === generation && JSON.stringify(object.status) !== previous.statusText) this.statusWrites++;
    this.#states.set(name, {
      generation,
      statusGeneration,
      statusAt: statusChanged ? performance.now() : previous.statusAt,
      accepted: accepted?.status,
      programmedReason: programmed?.reason,
      statusText: JSON.stringify(object.status),
    });
    if (isReconciled && !wasReconciled) {
      this.#reconciled++;
      this.lastReconciledAt = performance.now();
    } else if (!isReconciled && wasReconciled) {
      this.#reconciled--;
    }
  }

  #follow(kubeconfig: string, resourceVersion: string): void {
    const connection = kubeConnection(kubeconfig);
    let lastVersion = resourceVersion;
    const path = () => `/apis/mcpwarden.dev/v1alpha1/namespaces/${NAMESPACE}/mcppolicies?watch=1&resourceVersion=${lastVersion}`;
    const connect = (): void => {
      if (this.#closed) return;
      const request = httpsRequest(
        { ...connection, path: path() },
        (response) => {
          let buffer = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => {
            buffer += chunk;
            let end: number;
            while ((end = buffer.indexOf("\n")) !== -1) {
              const line = buffer.slice(0, end);
              buffer = buffer.slice(end + 1);
              if (line.trim() === "") continue;
              const event = JSON.parse(line) as { type: string; object: PolicyObject };
              if (event.type === "ERROR") {
                this.#failure = `the policy watch failed: ${line.slice(0, 300)}`;
                return;
              }
              lastVersion = event.object.metadata.resourceVersion ?? lastVersion;
              if (event.type !== "DELETED") this.#update(event.object);
            }
          });
          response.on("end", () => setTimeout(connect, 100)); // the API server ends watches now and then
        },
      );
      request.on("error", () => setTimeout(connect, 500));
      request.end();
      this.#request = request;
    };
    connect();
  }
}
