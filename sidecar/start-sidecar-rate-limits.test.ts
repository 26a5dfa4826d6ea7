// The sidecar's rate-limit wiring: memory for one replica; Redis shared by replicas, with
// the failure mode deciding (and the fallback gauge saying so) while Redis is away.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { rateLimitKey, type RateLimitRequest } from "../policy/ratelimit/types.ts";
import { redisServerInstalled, startRedisServer, type RedisServer } from "../test/support/redis-server.ts";
import { createSidecarLogger } from "./observability/sidecar-logger.ts";
import { SidecarMetrics } from "./observability/sidecar-metrics.ts";
import { setUpRateLimits, type RateLimitSetup } from "./start-sidecar-rate-limits.ts";

const logger = createSidecarLogger({ destination: new PassThrough(), level: "silent" });
const budget = (grant: string): RateLimitRequest[] => [{ key: rateLimitKey("", "runs", "grant", grant), counter: "runs", windowMs: 60_000, max: 2 }];

async function admitted(setup: RateLimitSetup, grant: string, times: number): Promise<boolean[]> {
  const results: boolean[] = [];
  for (let i = 0; i < times; i++) results.push((await setup.limiter.admit(budget(grant), Date.now())).admitted);
  return results;
}

const fallbackGauge = async (metrics: SidecarMetrics): Promise<string | undefined> => /^mcpwarden_rate_limit_store_fallback (\d)$/m.exec(await metrics.exposition())?.[1];

describe("setUpRateLimits", () => {
  it("without --redis: a memory store", async () => {
    const setup = await setUpRateLimits({ metrics: new SidecarMetrics({ processMetrics: false }), logger });
    expect(setup.description).toBe("memory");
    expect(await admitted(setup, "a", 3)).toEqual([true, true, false]);
  });

  it("Redis unreachable, failure mode local: each replica limits alone and the gauge shows the fallback", async () => {
    const metrics = new SidecarMetrics({ processMetrics: false });
    const setup = await setUpRateLimits({ redisUrl: "redis://127.0.0.1:1", failureMode: "local", metrics, logger });
    expect(setup.description).toBe("redis (failure mode local)");
    expect(await admitted(setup, "a", 3)).toEqual([true, true, false]);
    expect(await fallbackGauge(metrics)).toBe("1");
    await setup.store.close?.();
  });

  it("Redis unreachable, failure mode deny: every limited call is refused", async () => {
    const metrics = new SidecarMetrics({ processMetrics: false });
    const setup = await setUpRateLimits({ redisUrl: "redis://127.0.0.1:1", failureMode: "deny", metrics, logger });
    const result = await setup.limiter.admit(budget("a"), Date.now());
    expect(result).toMatchObject({ admitted: false, cause: "store_unavailable" });
    expect(await fallbackGauge(metrics)).toBe("1");
    await setup.store.close?.();
  });
});

describe.skipIf(!redisServerInstalled())("setUpRateLimits with a real Redis", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("two replicas share one budget; the gauge goes to 1 when Redis stops answering", async () => {
    const metrics = [new SidecarMetrics({ processMetrics: false }), new SidecarMetrics({ processMetrics: false })];
    // A generous command timeout: on a loaded machine 250 ms can pass without an answer,
    // and a replica that falls back would (rightly) admit on its own.
    const [one, two] = await Promise.all(
      metrics.map((m) => setUpRateLimits({ redisUrl: redis.url, failureMode: "local", redisCommandTimeoutMs: 2_000, metrics: m, logger })),
    );
    // Until the clients have connected, calls use the fallback (and after a failed attempt
    // Redis is skipped for a second): warm both up until Redis answers.
    const bothOnRedis = async (): Promise<boolean> => {
      await admitted(one!, "warm-up", 1);
      await admitted(two!, "warm-up", 1);
      return (await fallbackGauge(metrics[0]!)) === "0" && (await fallbackGauge(metrics[1]!)) === "0";
    };
    let onRedis = false;
    for (let i = 0; i < 100 && !(onRedis = await bothOnRedis()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(onRedis, "both replicas reach Redis").toBe(true);
    expect(await admitted(one!, "shared", 2)).toEqual([true, true]);
    expect(await admitted(two!, "shared", 1)).toEqual([false]);
    expect(await fallbackGauge(metrics[0]!)).toBe("0");

    redis.pause();
    try {
      // A hung Redis costs one command timeout, then the replica limits alone.
      expect(await admitted(one!, "during-outage", 1)).toEqual([true]);
      expect(await fallbackGauge(metrics[0]!)).toBe("1");
    } finally {
      redis.resume();
    }
    await one!.store.close?.();
    await two!.store.close?.();
  });
});
