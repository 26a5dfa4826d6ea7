// Rate-limit section of `make bench`: a benchmark, not a test. Times single admits one by
// one (process.hrtime.bigint around each), so the percentiles are per call; the
// figures include the timer's own cost, reported alongside.
//
// Run alone: node bench/ratelimit.ts

import { pathToFileURL } from "node:url";
import { SlidingWindowLimiter } from "../policy/ratelimit/sliding-window.ts";
import { rateLimitKey, type AdmitResult, type RateLimitRequest } from "../policy/ratelimit/types.ts";
import { MemoryRateLimitStore } from "../sidecar/ratelimit/memory-store.ts";
import { createRateLimitRedisClient, RedisRateLimitStore } from "../sidecar/ratelimit/redis-store.ts";
import { redisServerInstalled, startRedisServer } from "../test/support/redis-server.ts";

const MEMORY_SAMPLES = 100_000;
const REDIS_SAMPLES = 5_000;
const GRANTS = 10_000;

interface LatencySummary {
  samples: number;
  medianUs: number;
  p99Us: number;
  admittedShare: number;
}

function summarise(nanos: Float64Array, admitted: number): LatencySummary {
  const sorted = Float64Array.from(nanos).sort();
  const at = (q: number): number => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number) / 1000;
  return { samples: sorted.length, medianUs: round(at(0.5)), p99Us: round(at(0.99)), admittedShare: round(admitted / sorted.length) };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Seed 000's shape: 10 calls a minute per grant, many grants, calls 1 ms apart. */
function requestFor(i: number, limits: number): RateLimitRequest[] {
  const grant = `grant-${i % GRANTS}`;
  const requests: RateLimitRequest[] = [
    { key: rateLimitKey("agents", "run_test_iteration_rate", "grant", grant), counter: "run_test_iteration_rate", windowMs: 60_000, max: 10 },
  ];
  if (limits > 1) requests.push({ key: rateLimitKey("agents", "all_tools", "global", ""), counter: "all_tools", windowMs: 1_000, max: 1_000_000 });
  if (limits > 2) requests.push({ key: rateLimitKey("agents", "hourly", "grant", grant), counter: "hourly", windowMs: 3_600_000, max: 100 });
  return requests;
}

function timeSync(samples: number, admit: (requests: RateLimitRequest[], nowMs: number) => AdmitResult, limits: number): LatencySummary {
  const calls = Array.from({ length: 1024 }, (_, i) => requestFor(i * 7919, limits));
  for (let i = 0; i < 20_000; i++) admit(calls[i % calls.length] as RateLimitRequest[], i);
  const nanos = new Float64Array(samples);
  let admitted = 0;
  for (let i = 0; i < samples; i++) {
    const requests = requestFor(i, limits);
    const startedAt = process.hrtime.bigint();
    const result = admit(requests, 20_000 + i);
    nanos[i] = Number(process.hrtime.bigint() - startedAt);
    if (result.admitted) admitted++;
  }
  return summarise(nanos, admitted);
}

async function timeAsync(samples: number, admit: (requests: RateLimitRequest[], nowMs: number) => Promise<AdmitResult>, limits: number, warmup: number): Promise<LatencySummary> {
  for (let i = 0; i < warmup; i++) await admit(requestFor(i * 7919, limits), i);
  const nanos = new Float64Array(samples);
  let admitted = 0;
  for (let i = 0; i < samples; i++) {
    const requests = requestFor(i, limits);
    const startedAt = process.hrtime.bigint();
    const result = await admit(requests, warmup + i);
    nanos[i] = Number(process.hrtime.bigint() - startedAt);
    if (result.admitted) admitted++;
  }
  return summarise(nanos, admitted);
}

function timerOverheadUs(): number {
  const nanos = new Float64Array(100_000);
  for (let i = 0; i < nanos.length; i++) {
    const startedAt = process.hrtime.bigint();
    nanos[i] = Number(process.hrtime.bigint() - startedAt);
  }
  return summarise(nanos, 0).medianUs;
}

async function benchRedis(): Promise<Record<string, LatencySummary> | { skipped: string }> {
  if (!redisServerInstalled()) return { skipped: "redis-server not installed (make system-packages)" };
  const server = await startRedisServer();
  const client = createRateLimitRedisClient(server.url);
  try {
    await new Promise<void>((resolve) => client.once("ready", () => resolve()));
    const store = new RedisRateLimitStore({ client, keyPrefix: "mcpwarden:rl:bench:" });
    const limiter = new SlidingWindowLimiter(store);
    return {
      "redis admit (loopback, Redis TIME), 1 limit": await timeAsync(REDIS_SAMPLES, (requests, now) => limiter.admit(requests, now), 1, 1000),
      "redis admit (loopback, Redis TIME), 3 limits": await timeAsync(REDIS_SAMPLES, (requests, now) => limiter.admit(requests, now), 3, 1000),
    };
  } finally {
    await client.quit().catch(() => client.disconnect());
    await server.stop();
  }
}

export async function runRateLimitBench(): Promise<object> {
  const memory = new MemoryRateLimitStore();
  const asyncMemory = new MemoryRateLimitStore();
  const limited = new SlidingWindowLimiter(new MemoryRateLimitStore());
  const results: Record<string, unknown> = {
    "timer overhead (median µs, included below)": timerOverheadUs(),
    "memory store admitSync, 1 limit": timeSync(MEMORY_SAMPLES, (requests, now) => memory.admitSync(requests, now), 1),
    "memory store admitSync, 3 limits": timeSync(MEMORY_SAMPLES, (requests, now) => memory.admitSync(requests, now), 3),
    "memory store admit (awaited), 1 limit": await timeAsync(MEMORY_SAMPLES, (requests, now) => asyncMemory.admit(requests, now), 1, 20_000),
    "SlidingWindowLimiter over memory store (awaited), 1 limit": await timeAsync(MEMORY_SAMPLES, (requests, now) => limited.admit(requests, now), 1, 20_000),
    redis: await benchRedis(),
  };
  printResults(results);
  return results;
}

function printResults(results: Record<string, unknown>): void {
  console.log(`[bench] rate limiting (${GRANTS} grants at 10/min, one call per ms; µs per admit)`);
  const print = (name: string, value: unknown): void => {
    if (typeof value === "number") console.log(`  ${name}: ${value} µs`);
    else if (value !== null && typeof value === "object" && "medianUs" in value) {
      const summary = value as LatencySummary;
      console.log(`  ${name}: median ${summary.medianUs} µs, p99 ${summary.p99Us} µs (${summary.samples} samples, ${Math.round(summary.admittedShare * 100)}% admitted)`);
    } else if (value !== null && typeof value === "object") {
      for (const [inner, innerValue] of Object.entries(value)) print(inner, innerValue);
    }
  };
  for (const [name, value] of Object.entries(results)) print(name, value);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runRateLimitBench();
}
