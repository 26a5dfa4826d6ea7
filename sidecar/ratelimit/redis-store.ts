// Sliding-window logs shared by every replica, in Redis. One Lua script per call checks
// all of the call's windows and then records the call in all of them, so the
// all-or-nothing rule holds across replicas: Redis runs a script to completion before
// any other command.
//
// Each budget is a sorted set: score = admission time in ms, member unique per call
// (a random per-store id and a sequence number, so two replicas admitting at the same
// millisecond never overwrite each other). Entries that left the window are trimmed
// before counting, and a call is recorded only while fewer than `max` remain, so a set
// never holds more than `max` (even after a policy lowers it: the set then only shrinks).
// The key expires one window after its latest admission, so idle budgets vanish by
// themselves.
//
// Redis Cluster is not supported: a script may only touch keys of one hash slot, and a
// call's keys are unrelated. A `keyPrefix` containing a hash tag (e.g. "{mcpwarden:rl}:")
// would put every budget in one slot, which works but concentrates them on one shard.

import { createHash, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import {
  invalidRequestRefusal,
  normaliseRateLimitRequests,
  retryAfterSeconds,
  storeUnavailableRefusal,
} from "../../policy/ratelimit/sliding-window.ts";
import type { AdmitResult, RateLimitRequest, RateLimitStore } from "../../policy/ratelimit/types.ts";

const DEFAULT_RATE_LIMIT_KEY_PREFIX = "mcpwarden:rl:";
const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 250;

// KEYS[i]: the sorted set of budget i.
// ARGV[1]: the call's time in ms, or "" to use the Redis server's clock (TIME).
// ARGV[2]: the member recording this call (unique across replicas).
// ARGV[2i+1], ARGV[2i+2]: window in ms and max of KEYS[i].
// Returns {1, 0, 0, now} when admitted, {0, i, leavesAt, now} when refused, where i is
// the budget whose room appears last and leavesAt the time (ms) it appears.
const RATE_LIMIT_ADMIT_LUA = `
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[1])
end
local refusing, refusing_at = 0, 0
for i = 1, #KEYS do
  local window = tonumber(ARGV[2 * i + 1])
  local max = tonumber(ARGV[2 * i + 2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= max then
    -- the max-th newest admission: room appears when it leaves the window
    local pivot = redis.call('ZRANGE', KEYS[i], count - max, count - max, 'WITHSCORES')
    local leaves_at = tonumber(pivot[2]) + window
    if refusing == 0 or leaves_at > refusing_at then
      refusing, refusing_at = i, leaves_at
    end
  end
end
if refusing > 0 then
  return {0, refusing, refusing_at, now}
end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 * i + 1]))
end
return {1, 0, 0, now}
`;

const SCRIPT_NAME = "mcpwardenRateLimitAdmit";

interface ClientWithAdmitScript {
  [SCRIPT_NAME](numberOfKeys: number, ...keysThenArgs: string[]): Promise<unknown>;
}

/** Where a call's time comes from: the Redis server (production) or the `nowMs` given to admit. */
export type RedisRateLimitClock = "redis" | "caller";

export type SharedStoreAttempt = { reached: true; result: AdmitResult } | { reached: false; error: Error };

export interface RedisRateLimitStoreOptions {
  client: Redis;
  /**
   * "redis" (default): the script reads Redis `TIME`, one clock for all replicas.
   * "caller": the `nowMs` passed to admit, whole milliseconds (tests; key expiry still
   * runs on the server's clock, so caller time must not run slower than real time).
   */
  clock?: RedisRateLimitClock;
  /** Prepended to every Redis key. Default "mcpwarden:rl:". */
  keyPrefix?: string;
  /** Quit the client on close(). Default false (the caller owns it). */
  ownsClient?: boolean;
}

export interface RateLimitRedisClientOptions {
  /** Per-command timeout; a slow or unreachable Redis fails a call instead of holding it. Default 250 ms. */
  commandTimeoutMs?: number;
  /** Connection errors (ioredis emits one per failed reconnect); the failover store reports the outage itself. */
  onError?: (error: Error) => void;
}

/**
 * An ioredis client set up to fail fast: no offline queue and no replay after a lost
 * connection (a rate-limit decision that arrives late is worse than the fallback), a
 * short command timeout, and reconnection with capped backoff forever.
 */
export function createRateLimitRedisClient(url: string, options: RateLimitRedisClientOptions = {}): Redis {
  const client = new Redis(url, {
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: 1000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  });
  // Without a listener an 'error' event would crash the process.
  client.on("error", (error: Error) => options.onError?.(error));
  return client;
}

// With the u flag a surrogate pair is one astral code point, so only lone halves match.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The Redis key for a budget key: prefix + "k:" + key, or prefix + "h:" + SHA-256 when the
 * key is long or not well-formed UTF-16 (lone surrogates would all encode to U+FFFD in
 * UTF-8 and collide). The two forms cannot meet, and the hash input is the key's JSON
 * encoding, which is injective even for lone surrogates.
 */
export function redisKeyForBudget(prefix: string, key: string): string {
  if (key.length <= 200 && !LONE_SURROGATE.test(key)) return `${prefix}k:${key}`;
  return `${prefix}h:${createHash("sha256").update(JSON.stringify(key)).digest("hex")}`;
}

export class RedisRateLimitStore implements RateLimitStore {
  readonly #client: Redis & ClientWithAdmitScript;
  readonly #clock: RedisRateLimitClock;
  readonly #keyPrefix: string;
  readonly #ownsClient: boolean;
  readonly #memberPrefix = `${randomUUID()}:`;
  #sequence = 0;

  constructor(options: RedisRateLimitStoreOptions) {
    options.client.defineCommand(SCRIPT_NAME, { lua: RATE_LIMIT_ADMIT_LUA });
    this.#client = options.client as Redis & ClientWithAdmitScript;
    this.#clock = options.clock ?? "redis";
    this.#keyPrefix = options.keyPrefix ?? DEFAULT_RATE_LIMIT_KEY_PREFIX;
    this.#ownsClient = options.ownsClient ?? false;
  }

  /** False while the client is not connected: a call would fail at once. */
  isReachable(): boolean {
    return this.#client.status === "ready";
  }

  /** Refuses (fail closed, cause `store_unavailable`) when Redis does not answer. */
  async admit(requests: readonly RateLimitRequest[], nowMs: number): Promise<AdmitResult> {
    const attempt = await this.attemptAdmit(requests, nowMs);
    if (attempt.reached) return attempt.result;
    return storeUnavailableRefusal(requests[0]?.counter ?? "");
  }

  /** Like admit, but says whether Redis answered, for the failover store. Never rejects. */
  async attemptAdmit(requests: readonly RateLimitRequest[], nowMs: number): Promise<SharedStoreAttempt> {
    const normalised = normaliseRateLimitRequests(requests);
    if (!normalised.ok) return { reached: true, result: invalidRequestRefusal(normalised.counter) };
    const wanted = normalised.requests;
    if (wanted.length === 0) return { reached: true, result: { admitted: true } };
    let now = "";
    if (this.#clock === "caller") {
      if (!Number.isFinite(nowMs)) return { reached: true, result: invalidRequestRefusal(wanted[0]?.counter ?? "") };
      now = String(Math.floor(nowMs));
    }

    const args: string[] = wanted.map((request) => redisKeyForBudget(this.#keyPrefix, request.key));
    args.push(now, `${this.#memberPrefix}${this.#sequence++}`);
    for (const request of wanted) args.push(String(request.windowMs), String(request.max));

    let reply: unknown;
    try {
      reply = await this.#client[SCRIPT_NAME](wanted.length, ...args);
    } catch (error) {
      return { reached: false, error: error instanceof Error ? error : new Error(String(error)) };
    }
    return replyToAttempt(reply, wanted);
  }

  async close(): Promise<void> {
    if (!this.#ownsClient) return;
    try {
      await this.#client.quit();
    } catch {
      this.#client.disconnect();
    }
  }
}

function replyToAttempt(reply: unknown, wanted: readonly RateLimitRequest[]): SharedStoreAttempt {
  if (!Array.isArray(reply) || reply.length !== 4 || !reply.every((part) => typeof part === "number")) {
    return { reached: false, error: new Error(`rate-limit script returned an unexpected reply: ${JSON.stringify(reply)}`) };
  }
  const [admitted, refusingIndex, leavesAtMs, nowMs] = reply as [number, number, number, number];
  if (admitted === 1) return { reached: true, result: { admitted: true } };
  const refusing = wanted[refusingIndex - 1];
  if (refusing === undefined) {
    return { reached: false, error: new Error(`rate-limit script named budget ${refusingIndex} of ${wanted.length}`) };
  }
  return {
    reached: true,
    result: {
      admitted: false,
      counter: refusing.counter,
      retryAfterSeconds: retryAfterSeconds(leavesAtMs - nowMs),
      cause: "window_full",
    },
  };
}
