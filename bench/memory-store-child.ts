// A child of the scaling section: fills one MemoryRateLimitStore with N distinct callers
// and prints one JSON line — heap and RSS growth (after a full GC, so only what the store
// keeps counts, not this process's garbage), the time of each admit while filling (every
// caller new) and at size (every caller known), and one sweep of N expired keys. Its own
// process, so the benchmark's garbage and earlier runs do not count either.
//
// Run: node --expose-gc bench/memory-store-child.ts CALLERS [MAX_KEYS]

import { rateLimitKey, type RateLimitRequest } from "../policy/ratelimit/types.ts";
import { MemoryRateLimitStore } from "../sidecar/ratelimit/memory-store.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");

const callers = Number(process.argv[2]);
const maxKeys = process.argv[3] === undefined ? callers : Number(process.argv[3]);
if (!Number.isSafeInteger(callers) || callers < 1 || !Number.isSafeInteger(maxKeys)) throw new Error("usage: memory-store-child.ts CALLERS [MAX_KEYS]");

const WINDOW_MS = 60_000;
const KNOWN_SAMPLES = 200_000;
/** Seed 000's rule: 10 calls a minute per grant; the key as evaluateCall writes it. */
const request = (caller: number): RateLimitRequest[] => [
  { key: rateLimitKey("agents", "run_test_iteration_rate", "grant", `agent-${caller}`), counter: "run_test_iteration_rate", windowMs: WINDOW_MS, max: 10 },
];

// Everything measured is allocated before the baseline.
const fillNanos = new Float64Array(callers);
const knownNanos = new Float64Array(KNOWN_SAMPLES);
const store = new MemoryRateLimitStore({ maxKeys });
const memory = (): { heapUsed: number; rss: number } => {
  gc();
  gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
};
const before = memory();

// All callers arrive within 10 s, well inside the minute window: every key stays live.
const startMs = 1_000_000;
const at = (index: number, total: number): number => startMs + Math.floor((index * 10_000) / total);
let refused = 0;
for (let caller = 0; caller < callers; caller++) {
  const requests = request(caller);
  const start = process.hrtime.bigint();
  const result = store.admitSync(requests, at(caller, callers));
  fillNanos[caller] = Number(process.hrtime.bigint() - start);
  if (!result.admitted) refused++;
}
const filled = memory();
const keys = store.size;

// Known callers, in a scattered order, each admitted again (a second entry in its log).
const nowMs = startMs + 10_000;
let stride = 7_919;
while (callers % stride === 0) stride++;
for (let sample = 0; sample < KNOWN_SAMPLES; sample++) {
  const requests = request((sample * stride) % callers);
  const start = process.hrtime.bigint();
  store.admitSync(requests, nowMs + Math.floor(sample / 1_000));
  knownNanos[sample] = Number(process.hrtime.bigint() - start);
}

// The window passes for every key: one sweep drops them all.
const sweepStart = process.hrtime.bigint();
const dropped = store.sweep(nowMs + 1_000 + WINDOW_MS);
const sweepMs = Number(process.hrtime.bigint() - sweepStart) / 1e6;

const quantileUs = (nanos: Float64Array, q: number): number => Math.round((nanos.sort()[Math.min(nanos.length - 1, Math.floor(q * nanos.length))] as number) / 10) / 100;
const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);
console.log(
  JSON.stringify({
    callers,
    maxKeys,
    keys,
    refused,
    heapGrowthMb: mb(filled.heapUsed - before.heapUsed),
    rssGrowthMb: mb(filled.rss - before.rss),
    heapBytesPerKey: keys === 0 ? 0 : Math.round((filled.heapUsed - before.heapUsed) / keys),
    rssAfterMb: mb(filled.rss),
    fillAdmitUs: { p50: quantileUs(fillNanos, 0.5), p99: quantileUs(fillNanos, 0.99), max: quantileUs(fillNanos, 1) },
    knownAdmitUs: { p50: quantileUs(knownNanos, 0.5), p99: quantileUs(knownNanos, 0.99), max: quantileUs(knownNanos, 1) },
    sweep: { dropped, ms: Math.round(sweepMs * 10) / 10 },
  }),
);
