// `make soak`: one sidecar process (the shipped build, as images run it), started with the heap flags the injector sets for the
// chart's default 256Mi limit, under ten minutes of mixed load — allowed, denied and
// rate-limited calls, tools/list, calls held for approval and released — and hostile
// clients: slow-loris connections, abandoned sessions, oversized replies (a 30 MiB JSON
// reply, one 50 MiB SSE event, a listing over its cap). A benchmark, not a test: it
// prints and writes bench/results/soak.json — calls, errors, denied calls that reached the
// server (must be 0), peak and final RSS, open descriptors before and after, p50/p99 per
// minute — and exits 1 only if the sidecar died or a denied call got through.
//
// MCPWARDEN_SOAK_SECONDS shortens it (default 600); MCPWARDEN_BENCH_SIDECAR_FLAGS replaces
// the sidecar's node flags.

import { mkdirSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { packageRoot } from "../cli/package-root.ts";
import { sidecarNodeOptions } from "../operator/injection/sidecar-node-options.ts";
import { startCanary, startCountingUpstream } from "../test/support/boundary-servers.ts";
import { startSidecarProcess } from "../test/support/sidecar-process.ts";
import { shippedCliScript } from "./bench-process.ts";

const SECONDS = Number(process.env.MCPWARDEN_SOAK_SECONDS ?? 600);
const WORKERS = 8;
const POLICY = `apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: soak, namespace: bench }
spec:
  default: deny
  hide: ["debug_*"]
  tools:
    echo: {}
    big_json: {}
    big_sse_event: {}
    run_test_iteration: { limits: [{ counter: runs, window: second, max: 20 }] }
    delete_all: { action: deny, reason: "destructive" }
    deploy: { action: approve, approval: { timeout: 1m } }
`;
const DENIED = new Set(["delete_all", "debug_dump", "sample"]);

interface Sample {
  atS: number;
  rssMib: number;
  hwmMib: number;
  fds: number;
}

/** The injector's heap flags for the chart's 256Mi limit; MCPWARDEN_BENCH_SIDECAR_FLAGS replaces them (as in the sidecar section). */
const NODE_OPTIONS = process.env["MCPWARDEN_BENCH_SIDECAR_FLAGS"] ?? sidecarNodeOptions("256Mi");

const canary = await startCanary();
const upstream = await startCountingUpstream(canary);
const sidecar = await startSidecarProcess({
  policy: POLICY,
  upstream: { url: upstream.url },
  nodeFlags: NODE_OPTIONS.split(/\s+/).filter((flag) => flag !== ""),
  script: shippedCliScript(),
  args: ["--log-level", "warn", "--approval-hold", "5"],
});
const started = performance.now();
const elapsed = (): number => (performance.now() - started) / 1000;
const fdsBefore = sidecar.openFds();
const rssBefore = sidecar.statusKib("VmRSS") / 1024;
const HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

async function initialize(): Promise<Record<string, string>> {
  const response = await fetch(sidecar.mcpUrl, {
    method: "POST",
    headers: HEADERS,
    body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "soak", version: "1" } } }),
  });
  await response.text();
  return { "mcp-session-id": response.headers.get("mcp-session-id") ?? "", "mcp-protocol-version": "2025-06-18" };
}

let calls = 0;
let errors = 0;
const counts: Record<string, number> = {};
/** Latencies in ms per minute of the run, of the calls that should be quick (not held, not oversized). */
const latencies: number[][] = [];
const QUICK = new Set(["allowed", "denied", "rate-limited or allowed", "tools/list"]);

async function rpc(session: Record<string, string>, body: object, extra: Record<string, string> = {}): Promise<string> {
  const response = await fetch(sidecar.mcpUrl, { method: "POST", headers: { ...HEADERS, ...session, ...extra }, body: JSON.stringify(body) });
  let text = "";
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (text.length < 4096) text += Buffer.from(chunk).toString("utf8");
  }
  if (response.status >= 500 && response.status !== 503) throw new Error(`HTTP ${response.status}`);
  return size > 0 ? text : "";
}

async function timed(kind: string, work: () => Promise<string>): Promise<void> {
  const start = performance.now();
  try {
    await work();
    calls++;
    counts[kind] = (counts[kind] ?? 0) + 1;
    if (QUICK.has(kind)) (latencies[Math.floor(elapsed() / 60)] ??= []).push(performance.now() - start);
  } catch {
    errors++;
  }
}

const call = (name: string, args: object, id: number): object => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });

async function worker(index: number): Promise<void> {
  const session = await initialize();
  let id = 1;
  while (elapsed() < SECONDS) {
    const roll = Math.random();
    if (roll < 0.45) await timed("allowed", () => rpc(session, call("echo", { text: `w${index}` }, id++)));
    else if (roll < 0.6) await timed("denied", () => rpc(session, call(["delete_all", "debug_dump", "sample"][id % 3] as string, {}, id++)));
    else if (roll < 0.75) await timed("rate-limited or allowed", () => rpc(session, call("run_test_iteration", {}, id++)));
    else if (roll < 0.9) await timed("tools/list", () => rpc(session, { jsonrpc: "2.0", id: id++, method: "tools/list" }));
    else await timed("held for approval", () => rpc(session, call("deploy", { target: `w${index}-${id}` }, id++)));
  }
}

/** Approves every pending approval now and then, as a person on the admin API would. */
async function approver(): Promise<void> {
  while (elapsed() < SECONDS) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    try {
      const listed = (await (await fetch(`${sidecar.adminUrl}/v1/approvals`)).json()) as { items: { name: string; phase: string }[] };
      for (const approval of listed.items.filter((item) => item.phase === "Pending")) {
        await (await fetch(`${sidecar.adminUrl}/v1/approvals/${approval.name}/approve`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).text();
      }
    } catch {
      errors++;
    }
  }
}

/** Slow-loris: connections that send their headers a byte at a time; the sidecar must drop them. */
async function slowLoris(): Promise<number> {
  let opened = 0;
  const sockets = new Set<Socket>();
  while (elapsed() < SECONDS) {
    while (sockets.size < 20) {
      const socket = connect(sidecar.port, "127.0.0.1");
      opened++;
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => sockets.delete(socket));
      const drip = setInterval(() => (socket.writable ? socket.write("X") : clearInterval(drip)), 2_000);
      socket.on("close", () => clearInterval(drip));
      socket.write("POST /mcp HTTP/1.1\r\nHost: s\r\n");
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  for (const socket of sockets) socket.destroy();
  return opened;
}

/** Sessions opened and never used again, nor ended. */
async function abandonSessions(): Promise<number> {
  let abandoned = 0;
  while (elapsed() < SECONDS) {
    await initialize().catch(() => undefined);
    abandoned++;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  return abandoned;
}

/** Oversized replies, one at a time, every few seconds. */
async function oversized(): Promise<void> {
  const session = await initialize();
  let id = 1;
  while (elapsed() < SECONDS) {
    await timed("oversized reply", () => rpc(session, call("big_json", { mib: 30 }, id++)));
    await timed("oversized reply", () => rpc(session, call("big_sse_event", { mib: 50 }, id++)));
    await timed("listing over its cap", () => rpc(session, { jsonrpc: "2.0", id: id++, method: "tools/list" }, { "x-listing-mib": "12" }));
    await new Promise((resolve) => setTimeout(resolve, 5_000));
  }
}

const samples: Sample[] = [];
async function sampler(): Promise<void> {
  while (elapsed() < SECONDS && sidecar.alive()) {
    samples.push({ atS: Math.round(elapsed()), rssMib: sidecar.statusKib("VmRSS") / 1024, hwmMib: sidecar.statusKib("VmHWM") / 1024, fds: sidecar.openFds() });
    await new Promise((resolve) => setTimeout(resolve, 5_000));
  }
}

console.log(`soak: ${SECONDS} s against one sidecar (pid ${sidecar.child.pid}, ${NODE_OPTIONS}), ${WORKERS} callers, slow-loris, abandoned sessions, oversized replies`);
const [, , slowLorisOpened, abandoned] = await Promise.all([
  Promise.all(Array.from({ length: WORKERS }, (_, index) => worker(index))),
  approver(),
  slowLoris(),
  abandonSessions(),
  oversized(),
  sampler(),
]);
// Let dropped connections and finished calls settle before the last reading.
await new Promise((resolve) => setTimeout(resolve, 3_000));
const alive = sidecar.alive();
const final = alive ? { rssMib: sidecar.statusKib("VmRSS") / 1024, hwmMib: sidecar.statusKib("VmHWM") / 1024, fds: sidecar.openFds() } : undefined;
const deniedReached = upstream.calledTools().filter((tool) => DENIED.has(tool)).length;
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
};
// The quick calls only: held approvals and oversized replies are slow by design.
const perMinute = latencies.map((values, minute) => ({ minute, quickCalls: values.length, p50Ms: +percentile(values, 50).toFixed(2), p99Ms: +percentile(values, 99).toFixed(2) }));
const minuteSamples = (from: number, to: number): Sample[] => samples.filter((sample) => sample.atS >= from && sample.atS < to);
const average = (values: number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
const firstMinute = minuteSamples(60, 120);
const lastMinute = minuteSamples(SECONDS - 60, SECONDS + 1);
const result = {
  seconds: SECONDS,
  nodeOptions: NODE_OPTIONS,
  calls,
  errors,
  byKind: counts,
  deniedCallsThatReachedTheServer: deniedReached,
  canaryHits: canary.hits(),
  crashed: !alive,
  slowLorisConnectionsOpened: slowLorisOpened,
  sessionsAbandoned: abandoned,
  rssMib: { before: +rssBefore.toFixed(1), peak: +Math.max(...samples.map((s) => s.hwmMib), final?.hwmMib ?? 0).toFixed(1), final: final === undefined ? null : +final.rssMib.toFixed(1) },
  openFds: { before: fdsBefore, after: final?.fds ?? null },
  growthFirstToLastMinute: {
    rssMib: +(average(lastMinute.map((s) => s.rssMib)) - average(firstMinute.map((s) => s.rssMib))).toFixed(1),
    fds: +(average(lastMinute.map((s) => s.fds)) - average(firstMinute.map((s) => s.fds))).toFixed(1),
  },
  perMinute,
  samples,
};
const dir = join(packageRoot(), "bench", "results");
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, "soak.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify({ ...result, samples: `${samples.length} samples in bench/results/soak.json` }, null, 2));
await sidecar.close();
await upstream.close();
await canary.close();
process.exit(!alive || deniedReached > 0 || canary.hits() > 0 ? 1 : 0);
