// Sidecar section of `make bench` (issue 4 item 9): a benchmark, not a test. The upstream,
// the proxies and the load generator each run in their own process; the sidecar runs as
// `mcp-warden sidecar`, as it would in a pod, so its RSS is its own. Targets:
//   (a) the upstream directly          (b) a bare Node pass-through proxy
//   (c) the sidecar with allow-all     (d) the sidecar with a realistic 50-rule policy
//   (e) (c) with tracing on: a span per call and one per upstream call, exported over OTLP
//       to a real OpenTelemetry Collector (tools/build-otel-collector.sh) in its own process
// For each: an open-loop run at a fixed rate (latency from the scheduled send time) and a
// closed-loop saturation run (throughput), plus the CPU time the process in front of the
// load used per call — a figure that, unlike latency, holds on a busy shared machine.
//
// Run alone: node bench/sidecar.ts (needs the sidecar command; `make bench` builds it).

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { sidecarNodeOptions } from "../operator/injection/sidecar-node-options.ts";
import { benchScript, shippedCliScript, cpuSeconds, rssMb, sampleRss, startJsonProcess, type JsonProcess } from "./bench-process.ts";
import type { LoadPlan, LoadResult } from "./sidecar-load.ts";
import { ALLOW_ALL_POLICY, realisticPolicy, realisticRuleCount } from "./sidecar-policies.ts";
import { startOtelCollector, type OtelCollector } from "../test/support/otel-collector.ts";

export interface SidecarBenchOptions {
  rate: number;
  /** How the load generator times open-loop sends (see sidecar-load.ts). */
  scheduler: "spin" | "timer";
  openMs: number;
  saturationMs: number;
  warmupMs: number;
  concurrency: number;
  /** Node flags for the sidecar process (e.g. --cpu-prof, --max-semi-space-size=…). */
  sidecarNodeFlags: readonly string[];
}

const DEFAULT_SIDECAR_BENCH: SidecarBenchOptions = {
  rate: 2000,
  scheduler: "spin",
  openMs: 10_000,
  saturationMs: 5_000,
  warmupMs: 3_000,
  concurrency: 32,
  sidecarNodeFlags: [],
};

/**
 * MCPWARDEN_BENCH_SCHEDULER=timer when the machine has no core to spare for a spinning load
 * generator; MCPWARDEN_BENCH_SIDECAR_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" for node
 * flags on the sidecar process.
 */
function sidecarBenchOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SidecarBenchOptions {
  const scheduler = env["MCPWARDEN_BENCH_SCHEDULER"] === "timer" ? "timer" : "spin";
  // Unset: the heap flags the injector gives a sidecar with the chart's default 256Mi limit
  // (what runs in a pod); set (even empty) to measure others.
  const sidecarNodeFlags = (env["MCPWARDEN_BENCH_SIDECAR_FLAGS"] ?? sidecarNodeOptions("256Mi")).split(/\s+/).filter((flag) => flag !== "");
  return { ...DEFAULT_SIDECAR_BENCH, scheduler, sidecarNodeFlags };
}

interface TargetResult {
  target: string;
  open: LoadResult;
  saturation: LoadResult;
  /** CPU the measured process (upstream, pass-through or sidecar) used per call in the open run, µs. */
  cpuUsPerCall: number;
  rssIdleMb?: number;
  rssLoadMb?: number;
}

function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const load = startJsonProcess(benchScript("sidecar-load"), [JSON.stringify(plan)]);
  return load.ready.then((line) => {
    if ("failed" in line) throw new Error(`load generator: ${String(line["failed"])}`);
    return line as unknown as LoadResult;
  });
}

/** `pid`: the process in front of the load (the upstream itself for (a)); `rss`: also report its memory. */
async function measure(target: string, url: string, options: SidecarBenchOptions, extra: Partial<LoadPlan>, pid: number, rss: boolean): Promise<TargetResult> {
  const rssIdleMb = rss ? rssMb(pid) : undefined;
  const sampler = rss ? sampleRss(pid) : undefined;
  console.log(`[bench] sidecar: ${target}: ${options.rate} calls/s for ${options.openMs / 1000} s, then saturation with ${options.concurrency} callers`);
  // Warm up outside the CPU count: the open run's own warm-up is counted otherwise.
  await runLoad({ url, mode: "open", rate: options.rate, scheduler: options.scheduler, durationMs: options.warmupMs, warmupMs: 0, ...extra });
  const cpuBefore = cpuSeconds(pid);
  const open = await runLoad({ url, mode: "open", rate: options.rate, scheduler: options.scheduler, durationMs: options.openMs, warmupMs: 0, ...extra });
  const cpuUsPerCall = Math.round(((cpuSeconds(pid) - cpuBefore) * 1e6) / Math.max(1, open.calls + open.errors));
  const saturation = await runLoad({ url, mode: "closed", concurrency: options.concurrency, durationMs: options.saturationMs, warmupMs: 1_000, ...extra });
  const result: TargetResult = { target, open, saturation, cpuUsPerCall };
  if (rssIdleMb !== undefined) result.rssIdleMb = rssIdleMb;
  if (sampler !== undefined) result.rssLoadMb = sampler.stop();
  for (const run of [open, saturation]) {
    if (run.errors > 0 || run.refusals > 0) console.log(`[bench]   ${target}: ${run.errors} errors, ${run.refusals} refusals; first: ${run.firstError ?? ""}`);
  }
  return result;
}

async function startSidecar(policyFile: string, upstreamPort: number, nodeFlags: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<{ process: JsonProcess; url: string; adminUrl: string }> {
  // The flags and `env` reach only the sidecar: set for its spawn and restored at once.
  const saved = process.env["NODE_OPTIONS"];
  const savedEnv = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  if (nodeFlags.length > 0) process.env["NODE_OPTIONS"] = [saved ?? "", ...nodeFlags].join(" ").trim();
  let sidecar: JsonProcess;
  try {
    sidecar = startJsonProcess(
      shippedCliScript(),
      ["sidecar", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--upstream", `http://127.0.0.1:${upstreamPort}/mcp`, "--policy", policyFile],
      (line) => line["msg"] === "sidecar started",
    );
  } finally {
    for (const [name, value] of Object.entries({ ...savedEnv, NODE_OPTIONS: saved })) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  const started = await sidecar.ready;
  const url = `http://${String(started["listen"])}/mcp`;
  const adminUrl = `http://${String(started["admin"])}`;
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`${adminUrl}/readyz`).catch(() => undefined))?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Let start-up garbage be collected before the idle RSS is read.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  return { process: sidecar, url, adminUrl };
}

export async function runSidecarBench(options: SidecarBenchOptions = sidecarBenchOptionsFromEnv()): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), "mcpwarden-bench-"));
  const processes: JsonProcess[] = [];
  let collector: OtelCollector | undefined;
  try {
    writeFileSync(join(dir, "allow-all.yaml"), ALLOW_ALL_POLICY);
    writeFileSync(join(dir, "realistic.json"), realisticPolicy());
    const upstream = startJsonProcess(benchScript("sidecar-upstream"), []);
    processes.push(upstream);
    const upstreamPort = Number((await upstream.ready)["port"]);
    const passthrough = startJsonProcess(benchScript("sidecar-passthrough"), [String(upstreamPort)]);
    processes.push(passthrough);
    const passthroughPort = Number((await passthrough.ready)["port"]);

    const results: TargetResult[] = [];
    results.push(await measure("(a) upstream directly", `http://127.0.0.1:${upstreamPort}/mcp`, options, {}, upstream.child.pid as number, false));
    results.push(await measure("(b) bare Node pass-through", `http://127.0.0.1:${passthroughPort}/mcp`, options, {}, passthrough.child.pid as number, false));
    collector = await startOtelCollector();
    const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint };
    for (const [target, file, extra, env] of [
      ["(c) sidecar, allow-all", "allow-all.yaml", {}, {}],
      [`(d) sidecar, ${realisticRuleCount()}-rule policy`, "realistic.json", { agents: 50 }, {}],
      ["(e) (c) with tracing on (OTLP)", "allow-all.yaml", {}, tracing],
    ] as const) {
      const sidecar = await startSidecar(join(dir, file), upstreamPort, options.sidecarNodeFlags, env);
      processes.push(sidecar.process);
      results.push(await measure(target, sidecar.url, options, extra, sidecar.process.child.pid as number, true));
      await sidecar.process.stop();
    }
    const report = tabulate(results, options);
    return { options, targets: results, comparison: report };
  } finally {
    for (const child of processes.reverse()) await child.stop();
    await collector?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ComparisonRow {
  target: string;
  saturationCallsPerSecond: number;
  saturationVsUpstream: number;
  saturationVsPassthrough: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  addedP50MsVsUpstream: number;
  addedP99MsVsUpstream: number;
  addedP50MsVsPassthrough: number;
  addedP99MsVsPassthrough: number;
  cpuUsPerCall: number;
  rssIdleMb?: number;
  rssLoadMb?: number;
}

function tabulate(results: readonly TargetResult[], options: SidecarBenchOptions): ComparisonRow[] {
  const [upstream, passthrough] = results as [TargetResult, TargetResult];
  const ms = (us: number): number => Math.round(us) / 1000;
  const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;
  const rows = results.map((r): ComparisonRow => {
    const row: ComparisonRow = {
      target: r.target,
      saturationCallsPerSecond: r.saturation.callsPerSecond,
      saturationVsUpstream: ratio(r.saturation.callsPerSecond, upstream.saturation.callsPerSecond),
      saturationVsPassthrough: ratio(r.saturation.callsPerSecond, passthrough.saturation.callsPerSecond),
      p50Ms: ms(r.open.latencyUs.p50),
      p90Ms: ms(r.open.latencyUs.p90),
      p99Ms: ms(r.open.latencyUs.p99),
      addedP50MsVsUpstream: ms(r.open.latencyUs.p50 - upstream.open.latencyUs.p50),
      addedP99MsVsUpstream: ms(r.open.latencyUs.p99 - upstream.open.latencyUs.p99),
      addedP50MsVsPassthrough: ms(r.open.latencyUs.p50 - passthrough.open.latencyUs.p50),
      addedP99MsVsPassthrough: ms(r.open.latencyUs.p99 - passthrough.open.latencyUs.p99),
      cpuUsPerCall: r.cpuUsPerCall,
    };
    if (r.rssIdleMb !== undefined) row.rssIdleMb = r.rssIdleMb;
    if (r.rssLoadMb !== undefined) row.rssLoadMb = r.rssLoadMb;
    return row;
  });
  console.log(
    `[bench] sidecar: saturation = ${options.concurrency} closed-loop callers; latency at ${options.rate} calls/s open loop (${options.scheduler} scheduler), from the scheduled send time (ms)`,
  );
  const header = ["target", "calls/s sat.", "×(a)", "×(b)", "p50", "p90", "p99", "+p50 (a)", "+p99 (a)", "+p50 (b)", "+p99 (b)", "CPU µs/call", "RSS idle", "RSS load"];
  const table = rows.map((r) => [
    r.target,
    String(r.saturationCallsPerSecond),
    r.saturationVsUpstream.toFixed(2),
    r.saturationVsPassthrough.toFixed(2),
    r.p50Ms.toFixed(3),
    r.p90Ms.toFixed(3),
    r.p99Ms.toFixed(3),
    r.addedP50MsVsUpstream.toFixed(3),
    r.addedP99MsVsUpstream.toFixed(3),
    r.addedP50MsVsPassthrough.toFixed(3),
    r.addedP99MsVsPassthrough.toFixed(3),
    String(r.cpuUsPerCall),
    r.rssIdleMb === undefined ? "" : `${r.rssIdleMb} MB`,
    r.rssLoadMb === undefined ? "" : `${r.rssLoadMb} MB`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join("  ");
  console.log(`  ${line(header)}`);
  for (const row of table) console.log(`  ${line(row)}`);
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runSidecarBench();
}
