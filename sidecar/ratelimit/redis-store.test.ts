// Against a real redis-server started here (tools/ensure-system-packages.sh installs it).
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlidingWindowLimiter } from "../../policy/ratelimit/sliding-window.ts";
import { rateLimitKey, type RateLimitRequest } from "../../policy/ratelimit/types.ts";
import { startRedisServer, type RedisServer } from "../../test/support/redis-server.ts";
import { createRateLimitRedisClient, redisKeyForBudget, RedisRateLimitStore } from "./redis-store.ts";

const MINUTE = 60_000;
const T0 = Date.parse("2025-06-01T12:00:00Z");

let server: RedisServer;
let client: Redis;
let prefixCounter = 0;

/** A fresh key namespace per test, so tests never see each other's budgets. */
function freshPrefix(): string {
  return `mcpwarden:rl:unit${prefixCounter++}:`;
}

function runTestIteration(grant: string): RateLimitRequest {
  return { key: rateLimitKey("agents", "run_test_iteration_rate", "grant", grant), counter: "run_test_iteration_rate", windowMs: MINUTE, max: 10 };
}

beforeAll(async () => {
  server = await startRedisServer();
  client = createRateLimitRedisClient(server.url);
  await new Promise<void>((resolve) => client.once("ready", () => resolve()));
}, 30_000);

afterAll(async () => {
  await client?.quit().catch(() => client.disconnect());
  await server?.stop();
});

describe("seed 000 through Redis (caller clock)", () => {
  it("refuses the 11th call in a rolling minute, leaves other grants alone, admits again when the oldest leaves", async () => {
    const limiter = new SlidingWindowLimiter(new RedisRateLimitStore({ client, clock: "caller", keyPrefix: freshPrefix() }));
    for (let i = 0; i < 10; i++) expect(await limiter.admit([runTestIteration("alice")], T0 + i * 1000)).toEqual({ admitted: true });
    expect(await limiter.admit([runTestIteration("alice")], T0 + 30_500)).toEqual({
      admitted: false,
      counter: "run_test_iteration_rate",
      retryAfterSeconds: 30,
      cause: "window_full",
    });
    expect(await limiter.admit([runTestIteration("bob")], T0 + 30_500)).toEqual({ admitted: true });
    expect(await limiter.admit([runTestIteration("alice")], T0 + MINUTE - 1)).toMatchObject({ admitted: false, retryAfterSeconds: 1 });
    expect(await limiter.admit([runTestIteration("alice")], T0 + MINUTE)).toEqual({ admitted: true });
  });
});

describe("RedisRateLimitStore", () => {
  it("uses the Redis server's clock by default", async () => {
    const store = new RedisRateLimitStore({ client, keyPrefix: freshPrefix() });
    const twice: RateLimitRequest = { key: "k", counter: "twice", windowMs: MINUTE, max: 2 };
    // The nowMs given is ignored: Redis TIME decides.
    expect(await store.admit([twice], 0)).toEqual({ admitted: true });
    expect(await store.admit([twice], 0)).toEqual({ admitted: true });
    const refused = await store.admit([twice], 0);
    expect(refused).toMatchObject({ admitted: false, counter: "twice", cause: "window_full" });
    expect(refused.admitted === false && refused.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    expect(refused.admitted === false && refused.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it("keeps one expiring sorted set per budget, trimmed to the window", async () => {
    const keyPrefix = freshPrefix();
    const store = new RedisRateLimitStore({ client, clock: "caller", keyPrefix });
    const request = runTestIteration("alice");
    for (let i = 0; i < 3; i++) await store.admit([request], T0 + i);
    const redisKey = redisKeyForBudget(keyPrefix, request.key);
    expect(await client.type(redisKey)).toBe("zset");
    expect(await client.zcard(redisKey)).toBe(3);
    const ttl = await client.pttl(redisKey);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(MINUTE);
    // At T0 + 1 min + 1 ms the calls at T0 and T0 + 1 ms have left the window.
    expect(await store.admit([request], T0 + MINUTE + 1)).toEqual({ admitted: true });
    expect(await client.zrange(redisKey, "0", "-1", "WITHSCORES")).toEqual([expect.any(String), String(T0 + 2), expect.any(String), String(T0 + MINUTE + 1)]);
    // A policy lowering max below what the window holds refuses, and the set only shrinks.
    expect(await store.admit([{ ...request, max: 1 }], T0 + MINUTE + 1)).toMatchObject({ admitted: false, retryAfterSeconds: 60 });
    expect(await client.zcard(redisKey)).toBe(2);
  });

  it("records two replicas' admissions at the same millisecond separately", async () => {
    const keyPrefix = freshPrefix();
    const other = createRateLimitRedisClient(server.url);
    try {
      await new Promise<void>((resolve) => other.once("ready", () => resolve()));
      const replicas = [client, other].map((c) => new RedisRateLimitStore({ client: c, clock: "caller", keyPrefix }));
      const request: RateLimitRequest = { key: "shared", counter: "shared", windowMs: MINUTE, max: 3 };
      const results = await Promise.all([...replicas, ...replicas].map((replica) => replica.admit([request], T0)));
      expect(results.filter((result) => result.admitted)).toHaveLength(3);
      expect(await client.zcard(redisKeyForBudget(keyPrefix, "shared"))).toBe(3);
    } finally {
      await other.quit();
    }
  });

  it("is all-or-nothing: a full window leaves the other budgets untouched", async () => {
    const keyPrefix = freshPrefix();
    const store = new RedisRateLimitStore({ client, clock: "caller", keyPrefix });
    const once: RateLimitRequest = { key: "once", counter: "once", windowMs: MINUTE, max: 1 };
    const plenty: RateLimitRequest = { key: "plenty", counter: "plenty", windowMs: MINUTE, max: 100 };
    await store.admit([once], T0);
    expect(await store.admit([plenty, once], T0 + 1)).toMatchObject({ admitted: false, counter: "once" });
    expect(await client.exists(redisKeyForBudget(keyPrefix, "plenty"))).toBe(0);
  });

  it("counts a budget named twice in one call once", async () => {
    const store = new RedisRateLimitStore({ client, clock: "caller", keyPrefix: freshPrefix() });
    const twice: RateLimitRequest = { key: "k", counter: "c", windowMs: MINUTE, max: 2 };
    expect(await store.admit([twice, twice], T0)).toEqual({ admitted: true });
    expect(await store.admit([twice, twice], T0)).toEqual({ admitted: true });
    expect((await store.admit([twice], T0)).admitted).toBe(false);
  });

  it("keeps keys apart that differ only in lone surrogates or beyond 200 characters", async () => {
    const keyPrefix = freshPrefix();
    const store = new RedisRateLimitStore({ client, clock: "caller", keyPrefix });
    const long = "x".repeat(500);
    const keys = [rateLimitKey("", "c", "grant", "\uD800"), "\uD800", "\uDFFF", `${long}a`, `${long}b`];
    for (const key of keys) expect(await store.admit([{ key, counter: "c", windowMs: MINUTE, max: 1 }], T0)).toEqual({ admitted: true });
    expect(new Set(keys.map((key) => redisKeyForBudget(keyPrefix, key))).size).toBe(keys.length);
    expect(redisKeyForBudget(keyPrefix, `${long}a`)).toMatch(/^mcpwarden:rl:unit\d+:h:[0-9a-f]{64}$/);
  });

  it("loads its script again after SCRIPT FLUSH", async () => {
    const store = new RedisRateLimitStore({ client, clock: "caller", keyPrefix: freshPrefix() });
    const request: RateLimitRequest = { key: "k", counter: "c", windowMs: MINUTE, max: 5 };
    await store.admit([request], T0);
    await client.script("FLUSH");
    expect(await store.admit([request], T0 + 1)).toEqual({ admitted: true });
  });

  it("refuses (fail closed) when Redis is not there, without waiting", async () => {
    const nobody = createRateLimitRedisClient("redis://127.0.0.1:1");
    try {
      const store = new RedisRateLimitStore({ client: nobody, clock: "caller" });
      expect(store.isReachable()).toBe(false);
      // Fails at once rather than queueing until Redis appears: a queued command would
      // hang this test past its timeout.
      const attempt = await store.attemptAdmit([runTestIteration("alice")], T0);
      expect(attempt.reached).toBe(false);
      expect(await store.admit([runTestIteration("alice")], T0)).toEqual({
        admitted: false,
        counter: "run_test_iteration_rate",
        retryAfterSeconds: 1,
        cause: "store_unavailable",
      });
    } finally {
      nobody.disconnect();
    }
  });
});
