// The rate-limit store the sidecar admits through: memory for one replica, or Redis with a
// failure mode for budgets shared across replicas (sidecar/ratelimit/README.md "Wiring").

import type { Logger } from "pino";
import { SlidingWindowLimiter } from "../policy/ratelimit/sliding-window.ts";
import type { RateLimitStore } from "../policy/ratelimit/types.ts";
import type { SidecarMetrics } from "./observability/sidecar-metrics.ts";
import type { RateLimitFailureMode } from "../protocol/index.ts";
import { MemoryRateLimitStore } from "./ratelimit/memory-store.ts";

export interface RateLimitSetup {
  readonly limiter: SlidingWindowLimiter;
  readonly store: RateLimitStore;
  /** "memory" or "redis (failure mode local)". */
  readonly description: string;
}

/** Redis modules are loaded only with --redis: ioredis alone costs a one-replica sidecar ~20 MB of RSS. */
export async function setUpRateLimits(options: {
  redisUrl?: string;
  failureMode?: RateLimitFailureMode;
  /** How long a Redis command may take before the failure mode applies (default 250 ms). */
  redisCommandTimeoutMs?: number;
  metrics: SidecarMetrics;
  logger: Logger;
}): Promise<RateLimitSetup> {
  const { metrics, logger } = options;
  const memory = (): MemoryRateLimitStore => new MemoryRateLimitStore({ onCapacityRefusal: () => metrics.rateLimitStoreFull() });
  let store: RateLimitStore;
  let description: string;
  if (options.redisUrl === undefined) {
    store = memory();
    description = "memory";
  } else {
    const failureMode = options.failureMode ?? "local";
    const { createRateLimitRedisClient, RedisRateLimitStore } = await import("./ratelimit/redis-store.ts");
    const { FailoverRateLimitStore } = await import("./ratelimit/failover-store.ts");
    // Connection errors repeat on every reconnect attempt: the fallback gauge and the
    // failover store's own warnings say it once per switch.
    const client = createRateLimitRedisClient(options.redisUrl, {
      commandTimeoutMs: options.redisCommandTimeoutMs,
      onError: (error) => logger.debug({ err: error.message }, "redis connection error"),
    });
    store = new FailoverRateLimitStore({
      shared: new RedisRateLimitStore({ client, ownsClient: true }),
      failureMode,
      local: memory(),
      onFallbackChange: (active) => {
        metrics.setRateLimitFallback(active);
        if (active) logger.warn({ failureMode }, `rate-limit store unreachable: applying failure mode ${failureMode}`);
        else logger.info("rate-limit store reachable again");
      },
      onSharedStoreError: (error) => logger.debug({ err: error.message }, "rate-limit store call failed"),
    });
    description = `redis (failure mode ${failureMode})`;
  }
  const limiter = new SlidingWindowLimiter(store, { onStoreError: (error) => logger.error({ err: String(error) }, "rate-limit store failed; call refused") });
  return { limiter, store, description };
}
