// Scaling: the memory rate-limit store at 1k, 100k and 1M distinct callers, each run in
// its own process (memory-store-child.ts) so that only what the store keeps is counted.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { benchScript } from "./bench-process.ts";
import { printTable, ratio } from "./text-table.ts";

const run = promisify(execFile);

/** The store's default key cap (sidecar/ratelimit/memory-store.ts), which the sidecar uses. */
const DEFAULT_MAX_KEYS = 100_000;

interface StoreRun {
  callers: number;
  maxKeys: number;
  keys: number;
  refused: number;
  heapGrowthMb: number;
  rssGrowthMb: number;
  heapBytesPerKey: number;
  rssAfterMb: number;
  fillAdmitUs: { p50: number; p99: number; max: number };
  knownAdmitUs: { p50: number; p99: number; max: number };
  sweep: { dropped: number; ms: number };
}

async function storeRun(callers: number, maxKeys: number): Promise<StoreRun> {
  const { stdout } = await run(process.execPath, ["--expose-gc", benchScript("memory-store-child"), String(callers), String(maxKeys)], { maxBuffer: 1024 * 1024 });
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as StoreRun;
}

export async function runMemoryStoreScaling(): Promise<{ method: string; runs: StoreRun[] }> {
  const runs: StoreRun[] = [];
  for (const callers of [1_000, 100_000, 1_000_000]) runs.push(await storeRun(callers, Math.max(callers, DEFAULT_MAX_KEYS)));
  runs.push(await storeRun(1_000_000, DEFAULT_MAX_KEYS));
  const base = runs[0] as StoreRun;
  printTable(
    "scaling: memory rate-limit store by distinct callers (one 10/minute grant limit each; each run its own process; heap after a full GC)",
    ["callers", "max keys", "keys held", "refused", "heap +MB", "B/key", "RSS +MB", "new p50 µs", "p99", "max", "known p50 µs", "p99", "×1k", "sweep all ms"],
    runs.map((r) => [
      r.callers.toLocaleString("en"),
      r.maxKeys.toLocaleString("en"),
      r.keys.toLocaleString("en"),
      r.refused.toLocaleString("en"),
      String(r.heapGrowthMb),
      String(r.heapBytesPerKey),
      String(r.rssGrowthMb),
      r.fillAdmitUs.p50.toFixed(2),
      r.fillAdmitUs.p99.toFixed(2),
      r.fillAdmitUs.max.toFixed(0),
      r.knownAdmitUs.p50.toFixed(2),
      r.knownAdmitUs.p99.toFixed(2),
      ratio(r.knownAdmitUs.p50, base.knownAdmitUs.p50),
      r.sweep.ms.toFixed(1),
    ]),
    [
      `new: each caller's first admit while filling; known: 200,000 admits of held callers at full size; sweep all: one sweep once every key's window has passed.`,
      `The sidecar's store holds at most ${DEFAULT_MAX_KEYS.toLocaleString("en")} keys (the last row): beyond, new callers are refused with cause capacity, never evicted.`,
      `max: single admits that met a Map resize or a GC (amortised: linear in keys).`,
    ],
  );
  return {
    method: "MemoryRateLimitStore.admitSync, one process per row started with --expose-gc; heap and RSS growth measured after two full GCs before and after filling; per-admit times with process.hrtime.bigint",
    runs,
  };
}
