// Property tests of the sliding-window limiter and its stores against a brute-force
// oracle that keeps every admitted timestamp and counts by filtering:
//   - no rolling window ever holds more than `max` admitted calls;
//   - no call is refused while all its windows have room (and, for the serial stores,
//     every decision, counter and retryAfterSeconds equals the oracle's).
// The seed is fixed and printed in the test names; set MCPWARDEN_PROPERTY_SEED to try
// another. The Redis part starts its own redis-server (tools/ensure-system-packages.sh
// installs it).

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { SlidingWindowLimiter } from "../../policy/ratelimit/sliding-window.ts";
import { rateLimitKey, type AdmitResult, type RateLimitRequest } from "../../policy/ratelimit/types.ts";
import { startRedisServer, type RedisServer } from "../../test/support/redis-server.ts";
import { MemoryRateLimitStore } from "./memory-store.ts";
import { createRateLimitRedisClient, RedisRateLimitStore } from "./redis-store.ts";

const SEED = Number(process.env.MCPWARDEN_PROPERTY_SEED ?? 20_250_601);
const RUNS = 200;
const MIN_CALLS = 500;
const MAX_CALLS = 600;
const T0 = Date.parse("2025-06-01T00:00:00Z");

interface CounterSpec {
  name: string;
  windowMs: number;
  max: number;
  scope: "grant" | "global";
}

interface PlannedCall {
  /** Time since the previous call; 0 puts the call in the previous call's tick (concurrent for Redis). */
  gapMs: number;
  grant: string;
  /** Indices into the scenario's counters; repeats ask for one budget twice. */
  counters: number[];
  replica: number;
}

interface Scenario {
  counters: CounterSpec[];
  calls: PlannedCall[];
}

function scenarioArbitrary(windows: readonly number[], sameTickWeight: number): fc.Arbitrary<Scenario> {
  const counter = fc.record({
    windowMs: fc.constantFrom(...windows),
    max: fc.integer({ min: 1, max: 8 }),
    scope: fc.constantFrom<"grant" | "global">("grant", "global"),
  });
  return fc.array(counter, { minLength: 1, maxLength: 4 }).chain((specs) => {
    const counters = specs.map((spec, index) => ({ ...spec, name: `counter${index}` }));
    const call = fc.record({
      gapMs: fc.oneof(
        { weight: sameTickWeight, arbitrary: fc.constant(0) },
        { weight: 4, arbitrary: fc.integer({ min: 1, max: 300 }) },
        { weight: 2, arbitrary: fc.integer({ min: 301, max: 3000 }) },
        { weight: 1, arbitrary: fc.integer({ min: 3001, max: 70_000 }) },
      ),
      grant: fc.constantFrom("alice", "bob", "carol"),
      counters: fc.array(fc.nat({ max: counters.length - 1 }), { minLength: 1, maxLength: 3 }),
      replica: fc.nat({ max: 2 }),
    });
    return fc.record({
      counters: fc.constant(counters),
      calls: fc.array(call, { minLength: MIN_CALLS, maxLength: MAX_CALLS }),
    });
  });
}

function requestsFor(scenario: Scenario, call: PlannedCall): RateLimitRequest[] {
  return call.counters.map((index) => {
    const counter = scenario.counters[index] as CounterSpec;
    const subject = counter.scope === "grant" ? call.grant : "";
    return { key: rateLimitKey("agents", counter.name, counter.scope, subject), counter: counter.name, windowMs: counter.windowMs, max: counter.max };
  });
}

/** Every admitted timestamp per budget, never trimmed; every question answered by filtering. */
class BruteForceOracle {
  readonly #admitted = new Map<string, number[]>();
  readonly #budgets = new Map<string, RateLimitRequest>();

  /** What an exact limiter must answer at t (maxKeys: the memory store's key cap, if any). */
  decide(requests: readonly RateLimitRequest[], t: number, maxKeys?: number): AdmitResult {
    const unique = this.#unique(requests);
    let refusing: { counter: string; waitMs: number } | undefined;
    for (const request of unique) {
      const inWindow = this.#inWindow(request.key, request.windowMs, t);
      if (inWindow.length < request.max) continue;
      const mustLeave = inWindow[inWindow.length - request.max] as number;
      const waitMs = mustLeave + request.windowMs - t;
      if (refusing === undefined || waitMs > refusing.waitMs) refusing = { counter: request.counter, waitMs };
    }
    if (refusing !== undefined) {
      return { admitted: false, counter: refusing.counter, retryAfterSeconds: Math.max(1, Math.ceil(refusing.waitMs / 1000)), cause: "window_full" };
    }
    if (maxKeys !== undefined) {
      const live = [...this.#admitted.keys()].filter((key) => this.#expiresAt(key) > t);
      const fresh = unique.filter((request) => !live.includes(request.key));
      if (fresh.length > 0 && live.length + fresh.length > maxKeys) {
        const firstExpiry = Math.min(...live.map((key) => this.#expiresAt(key)));
        const waitMs = Number.isFinite(firstExpiry) ? firstExpiry - t : 1000;
        return { admitted: false, counter: (fresh[0] as RateLimitRequest).counter, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)), cause: "capacity" };
      }
    }
    return { admitted: true };
  }

  record(requests: readonly RateLimitRequest[], t: number): void {
    for (const request of this.#unique(requests)) {
      this.#budgets.set(request.key, request);
      const times = this.#admitted.get(request.key) ?? [];
      times.push(t);
      this.#admitted.set(request.key, times);
    }
  }

  /** Whether a window ending at t (inclusive) holds max calls already. */
  full(request: RateLimitRequest, t: number): boolean {
    return this.#inWindow(request.key, request.windowMs, t).length >= request.max;
  }

  /** The most admitted calls any rolling window (a, a + window] of each budget ever held, minus its max. */
  worstExcess(): number {
    let worst = Number.NEGATIVE_INFINITY;
    for (const [key, times] of this.#admitted) {
      const { windowMs, max } = this.#budgets.get(key) as RateLimitRequest;
      const sorted = [...times].sort((a, b) => a - b);
      // The fullest windows start just before an admitted call: count [s_i, s_i + window).
      for (let i = 0; i < sorted.length; i++) {
        const start = sorted[i] as number;
        const held = sorted.filter((s) => s >= start && s < start + windowMs).length;
        worst = Math.max(worst, held - max);
      }
    }
    return worst;
  }

  #unique(requests: readonly RateLimitRequest[]): RateLimitRequest[] {
    const seen = new Set<string>();
    return requests.filter((request) => !seen.has(request.key) && seen.add(request.key));
  }

  #inWindow(key: string, windowMs: number, t: number): number[] {
    return (this.#admitted.get(key) ?? []).filter((s) => s > t - windowMs && s <= t).sort((a, b) => a - b);
  }

  #expiresAt(key: string): number {
    const times = this.#admitted.get(key) ?? [];
    return Math.max(...times) + (this.#budgets.get(key) as RateLimitRequest).windowMs;
  }
}

interface Tally {
  runs: number;
  calls: number;
  admitted: number;
  windowFull: number;
  capacity: number;
}

function newTally(): Tally {
  return { runs: 0, calls: 0, admitted: 0, windowFull: 0, capacity: 0 };
}

function count(tally: Tally, result: AdmitResult): void {
  tally.calls++;
  if (result.admitted) tally.admitted++;
  else if (result.cause === "capacity") tally.capacity++;
  else tally.windowFull++;
}

function report(name: string, tally: Tally, startedAt: number): void {
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  console.log(
    `[property] ${name}: seed ${SEED}, ${tally.runs} runs, ${tally.calls} calls (${tally.admitted} admitted, ${tally.windowFull} window_full, ${tally.capacity} capacity) in ${seconds} s`,
  );
}

/** Runs a scenario serially through one limiter and demands the oracle's exact answers. */
async function checkSerially(limiter: SlidingWindowLimiter, scenario: Scenario, tally: Tally, maxKeys?: number): Promise<void> {
  const oracle = new BruteForceOracle();
  let t = T0;
  for (const [index, call] of scenario.calls.entries()) {
    t += call.gapMs;
    const requests = requestsFor(scenario, call);
    const expected = oracle.decide(requests, t, maxKeys);
    const actual = await limiter.admit(requests, t);
    expect(actual, `call ${index} at T0+${t - T0} ms`).toEqual(expected);
    if (actual.admitted) oracle.record(requests, t);
    count(tally, actual);
  }
  expect(oracle.worstExcess()).toBeLessThanOrEqual(0);
  tally.runs++;
}

describe("SlidingWindowLimiter over MemoryRateLimitStore", () => {
  it(`matches the brute-force oracle (fast-check seed ${SEED}, ${RUNS} runs × ${MIN_CALLS}–${MAX_CALLS} calls)`, async () => {
    const tally = newTally();
    const startedAt = performance.now();
    await fc.assert(
      fc.asyncProperty(
        scenarioArbitrary([1000, 2500, 10_000, 60_000], 3),
        // Sometimes a small key cap, so refusals at capacity are checked too.
        fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined, freq: 3 }),
        async (scenario, maxKeys) => {
          const store = new MemoryRateLimitStore({ maxKeys, sweepPerAdmit: 1 });
          await checkSerially(new SlidingWindowLimiter(store), scenario, tally, maxKeys);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    report("memory store", tally, startedAt);
    expect(tally.runs).toBeGreaterThanOrEqual(RUNS);
    expect(tally.windowFull).toBeGreaterThan(0);
    expect(tally.capacity).toBeGreaterThan(0);
  });
});

describe("RedisRateLimitStore against a real redis-server", () => {
  let server: RedisServer;
  let clients: Redis[] = [];
  // Windows of 5 s and more: key expiry (PEXPIRE) runs on the server's real clock while
  // these tests drive a fast fake one, and a run takes well under a second of real time.
  const redisWindows = [5_000, 10_000, 60_000];

  beforeAll(async () => {
    server = await startRedisServer();
    clients = [0, 1, 2].map(() => createRateLimitRedisClient(server.url));
    await Promise.all(clients.map((client) => waitUntilReady(client)));
  }, 30_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
    await server?.stop();
  });

  it(`one client, serially: matches the brute-force oracle exactly (fast-check seed ${SEED}, 50 runs × ${MIN_CALLS}–${MAX_CALLS} calls)`, async () => {
    const tally = newTally();
    const startedAt = performance.now();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary(redisWindows, 3), async (scenario) => {
        const store = new RedisRateLimitStore({ client: clients[0] as Redis, clock: "caller", keyPrefix: `mcpwarden:rl:serial:${run++}:` });
        await checkSerially(new SlidingWindowLimiter(store), scenario, tally);
      }),
      { seed: SEED, numRuns: 50 },
    );
    report("redis store, serial", tally, startedAt);
  }, 300_000);

  it(`three replicas admitting concurrently: never more than max, never a refusal with room (fast-check seed ${SEED}, ${RUNS} runs × ${MIN_CALLS}–${MAX_CALLS} calls)`, async () => {
    const tally = newTally();
    let ticks = 0;
    const startedAt = performance.now();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary(redisWindows, 8), async (scenario) => {
        const keyPrefix = `mcpwarden:rl:replicas:${run++}:`;
        const replicas = clients.map((client) => new SlidingWindowLimiter(new RedisRateLimitStore({ client, clock: "caller", keyPrefix })));
        const oracle = new BruteForceOracle();
        let t = T0;
        // Calls with no gap form a tick: sent at once from three clients, so Redis decides
        // them in an order nobody chose. Ticks run one after another.
        const tickList: PlannedCall[][] = [];
        for (const call of scenario.calls) {
          const last = tickList[tickList.length - 1];
          if (call.gapMs === 0 && last !== undefined) last.push(call);
          else tickList.push([call]);
        }
        for (const tick of tickList) {
          t += (tick[0] as PlannedCall).gapMs;
          const planned = tick.map((call) => ({ call, requests: requestsFor(scenario, call) }));
          const results = await Promise.all(planned.map(({ call, requests }) => (replicas[call.replica] as SlidingWindowLimiter).admit(requests, t)));
          for (const [index, result] of results.entries()) {
            if (result.admitted) oracle.record((planned[index] as { requests: RateLimitRequest[] }).requests, t);
          }
          // Windows only fill up during a tick (all its calls share t), so a window that
          // has room at the end of the tick had room whenever a call of the tick was decided.
          for (const [index, result] of results.entries()) {
            count(tally, result);
            if (result.admitted) continue;
            const { requests } = planned[index] as { requests: RateLimitRequest[] };
            expect(result.cause).toBe("window_full");
            const named = requests.find((request) => request.counter === result.counter);
            expect(named, `refusal names a counter of the call: ${JSON.stringify(result)}`).toBeDefined();
            expect(oracle.full(named as RateLimitRequest, t), `call refused at T0+${t - T0} ms while ${result.counter} had room`).toBe(true);
            expect(result.retryAfterSeconds).toBeGreaterThanOrEqual(1);
            expect(result.retryAfterSeconds).toBeLessThanOrEqual(Math.ceil((named as RateLimitRequest).windowMs / 1000));
          }
          ticks++;
        }
        expect(oracle.worstExcess()).toBeLessThanOrEqual(0);
        tally.runs++;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    report(`redis store, 3 concurrent replicas (${ticks} ticks)`, tally, startedAt);
    expect(tally.runs).toBeGreaterThanOrEqual(RUNS);
    expect(tally.windowFull).toBeGreaterThan(0);
  }, 600_000);
});

async function waitUntilReady(client: Redis): Promise<void> {
  if (client.status === "ready") return;
  await new Promise<void>((resolve) => client.once("ready", () => resolve()));
}
