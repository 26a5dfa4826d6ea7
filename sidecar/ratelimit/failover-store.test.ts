import type { Redis } from "ioredis";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AdmitResult, RateLimitRequest } from "../../policy/ratelimit/types.ts";
import { startRedisServer, type RedisServer } from "../../test/support/redis-server.ts";
import { FailoverRateLimitStore, type SharedRateLimitStore } from "./failover-store.ts";
import { createRateLimitRedisClient, RedisRateLimitStore, type SharedStoreAttempt } from "./redis-store.ts";

const MINUTE = 60_000;
const T0 = Date.parse("2025-06-01T12:00:00Z");
const threePerMinute: RateLimitRequest = { key: "budget", counter: "calls", windowMs: MINUTE, max: 3 };

/** A shared store whose availability the test switches. */
function switchableShared(): SharedRateLimitStore & { up: boolean; reachable: boolean; attempts: number } {
  const shared = {
    up: true,
    reachable: true,
    attempts: 0,
    isReachable: () => shared.reachable,
    attemptAdmit(): Promise<SharedStoreAttempt> {
      shared.attempts++;
      if (!shared.up) return Promise.resolve({ reached: false, error: new Error("Command timed out") });
      return Promise.resolve({ reached: true, result: { admitted: true } });
    },
  };
  return shared;
}

describe("FailoverRateLimitStore decisions", () => {
  it("local (default): limits in memory while the shared store fails, and says so once each way", async () => {
    const shared = switchableShared();
    const onFallbackChange = vi.fn();
    const onSharedStoreError = vi.fn();
    let monotonic = 0;
    const store = new FailoverRateLimitStore({ shared, onFallbackChange, onSharedStoreError, monotonicNowMs: () => monotonic });

    expect(await store.admit([threePerMinute], T0)).toEqual({ admitted: true });
    expect(onFallbackChange).not.toHaveBeenCalled();

    shared.up = false;
    const results: AdmitResult[] = [];
    for (let i = 0; i < 4; i++) results.push(await store.admit([threePerMinute], T0 + i));
    expect(results.map((result) => result.admitted)).toEqual([true, true, true, false]);
    expect(results[3]).toMatchObject({ cause: "window_full", counter: "calls" });
    expect(onFallbackChange.mock.calls).toEqual([[true]]);
    expect(store.fallbackActive).toBe(true);
    // One failed attempt, then the shared store is skipped until the retry interval passes.
    expect(onSharedStoreError).toHaveBeenCalledTimes(1);
    expect(shared.attempts).toBe(2);

    shared.up = true;
    monotonic += 999;
    await store.admit([threePerMinute], T0 + 10);
    expect(shared.attempts).toBe(2);
    monotonic += 1;
    expect(await store.admit([threePerMinute], T0 + 11)).toEqual({ admitted: true });
    expect(shared.attempts).toBe(3);
    expect(onFallbackChange.mock.calls).toEqual([[true], [false]]);
    expect(store.fallbackActive).toBe(false);
  });

  it("does not try a shared store that says it is unreachable", async () => {
    const shared = switchableShared();
    shared.reachable = false;
    const store = new FailoverRateLimitStore({ shared });
    expect(await store.admit([threePerMinute], T0)).toEqual({ admitted: true });
    expect(shared.attempts).toBe(0);
    expect(store.fallbackActive).toBe(true);
  });

  it("deny: refuses every limited call while the shared store fails", async () => {
    const shared = switchableShared();
    shared.up = false;
    const onFallbackChange = vi.fn();
    const store = new FailoverRateLimitStore({ shared, failureMode: "deny", onFallbackChange });
    expect(await store.admit([threePerMinute], T0)).toEqual({ admitted: false, counter: "calls", retryAfterSeconds: 1, cause: "store_unavailable" });
    expect(await store.admit([], T0)).toEqual({ admitted: true });
    expect(onFallbackChange.mock.calls).toEqual([[true]]);
  });

  it("allow: admits every call while the shared store fails", async () => {
    const shared = switchableShared();
    shared.up = false;
    const store = new FailoverRateLimitStore({ shared, failureMode: "allow" });
    for (let i = 0; i < 10; i++) expect(await store.admit([threePerMinute], T0)).toEqual({ admitted: true });
    expect(store.fallbackActive).toBe(true);
  });
});

describe("FailoverRateLimitStore over a real Redis that goes away", () => {
  let server: RedisServer | undefined;
  let client: Redis | undefined;

  afterEach(async () => {
    client?.disconnect();
    server?.resume();
    await server?.stop();
    client = undefined;
    server = undefined;
  });

  async function connect(): Promise<{ shared: RedisRateLimitStore; client: Redis }> {
    server = await startRedisServer();
    const redis = createRateLimitRedisClient(server.url);
    client = redis;
    await waitFor(() => redis.status === "ready", "the client to connect");
    return { shared: new RedisRateLimitStore({ client: redis, clock: "caller" }), client: redis };
  }

  it("local: keeps limiting in memory when Redis is killed, reports fallback, and returns to Redis when it is back", async () => {
    const { shared, client: redis } = await connect();
    const gauge: number[] = [];
    const store = new FailoverRateLimitStore({ shared, onFallbackChange: (active) => gauge.push(active ? 1 : 0), retrySharedAfterMs: 100 });

    expect(await store.admit([threePerMinute], T0)).toEqual({ admitted: true });
    expect(gauge).toEqual([]);

    const port = (server as RedisServer).port;
    await (server as RedisServer).stop();
    await waitFor(() => redis.status !== "ready", "the client to notice");
    const during: AdmitResult[] = [];
    for (let i = 0; i < 4; i++) during.push(await store.admit([threePerMinute], T0 + 1000 + i));
    // The replica's own memory: an empty log at the switch, so 3 more, then refused.
    expect(during.map((result) => result.admitted)).toEqual([true, true, true, false]);
    expect(gauge).toEqual([1]);

    server = await startRedisServer({ port });
    await waitFor(() => redis.status === "ready", "the client to reconnect", 10_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The new server is empty: it knows nothing of the calls admitted locally.
    expect(await store.admit([threePerMinute], T0 + 2000)).toEqual({ admitted: true });
    expect(gauge).toEqual([1, 0]);
  }, 30_000);

  it("local: a Redis that stops answering costs one command timeout, then calls skip it until it answers", async () => {
    const { shared } = await connect();
    // Count what reaches Redis and how each attempt ended, instead of timing calls.
    const attempts: string[] = [];
    const counted: SharedRateLimitStore = {
      isReachable: () => shared.isReachable(),
      attemptAdmit: async (requests, nowMs) => {
        const result = await shared.attemptAdmit(requests, nowMs);
        attempts.push(result.reached ? "reached" : String(result.error));
        return result;
      },
    };
    const gauge: number[] = [];
    const store = new FailoverRateLimitStore({ shared: counted, onFallbackChange: (active) => gauge.push(active ? 1 : 0), retrySharedAfterMs: 500 });
    expect(await store.admit([threePerMinute], T0)).toEqual({ admitted: true });
    expect(attempts).toEqual(["reached"]);

    (server as RedisServer).pause();
    expect(await store.admit([threePerMinute], T0 + 1)).toEqual({ admitted: true });
    expect(attempts).toHaveLength(2);
    expect(attempts[1]).toMatch(/timed? ?out/i);
    expect(await store.admit([threePerMinute], T0 + 2)).toEqual({ admitted: true });
    expect(attempts).toHaveLength(2); // skipped Redis: no second timeout
    expect(gauge).toEqual([1]);

    (server as RedisServer).resume();
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await store.admit([threePerMinute], T0 + 3)).toEqual({ admitted: true });
    expect(gauge).toEqual([1, 0]);
  }, 30_000);

  it("deny and allow: refuse or admit while Redis is down", async () => {
    const { shared, client: redis } = await connect();
    const deny = new FailoverRateLimitStore({ shared, failureMode: "deny" });
    const allow = new FailoverRateLimitStore({ shared, failureMode: "allow" });
    expect(await deny.admit([threePerMinute], T0)).toEqual({ admitted: true });
    await (server as RedisServer).stop();
    await waitFor(() => redis.status !== "ready", "the client to notice");
    expect(await deny.admit([threePerMinute], T0 + 1)).toMatchObject({ admitted: false, cause: "store_unavailable" });
    for (let i = 0; i < 5; i++) expect(await allow.admit([threePerMinute], T0 + 2)).toEqual({ admitted: true });
    expect(deny.fallbackActive && allow.fallbackActive).toBe(true);
  }, 30_000);
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
