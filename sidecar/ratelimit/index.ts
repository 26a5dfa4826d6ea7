export { DEFAULT_MAX_KEYS, MemoryRateLimitStore, type MemoryRateLimitStoreOptions } from "./memory-store.ts";
export {
  createRateLimitRedisClient,
  DEFAULT_RATE_LIMIT_KEY_PREFIX,
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  RATE_LIMIT_ADMIT_LUA,
  redisKeyForBudget,
  RedisRateLimitStore,
  type RateLimitRedisClientOptions,
  type RedisRateLimitClock,
  type RedisRateLimitStoreOptions,
  type SharedStoreAttempt,
} from "./redis-store.ts";
export {
  FailoverRateLimitStore,
  RATE_LIMIT_FAILURE_MODES,
  type FailoverRateLimitStoreOptions,
  type RateLimitFailureMode,
  type SharedRateLimitStore,
} from "./failover-store.ts";
