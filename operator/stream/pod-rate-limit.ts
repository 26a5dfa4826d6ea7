// A token bucket per pod for what sidecars report beyond acks (tool definitions): a pod
// may send a burst, then one report per refill interval; more are answered 429 with the
// time to wait. Sidecars report on change and at most once a second
// (protocol/tool-definition-report.ts), so only a broken or hostile one meets the limit.

const DEFAULT_MAX_PODS = 10_000;

export interface PodRateLimitOptions {
  readonly burst: number;
  readonly refillMs: number;
  /** Pods remembered at most; the least recently seen are forgotten (they start full again). */
  readonly maxPods?: number;
  readonly now?: () => number;
}

export class PodRateLimit {
  readonly #options: PodRateLimitOptions;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(options: PodRateLimitOptions) {
    this.#options = options;
  }

  /** 0 when the pod may report now (a token is taken); else the whole seconds until it may. */
  take(podUid: string): number {
    const { burst, refillMs } = this.#options;
    const now = (this.#options.now ?? performance.now.bind(performance))();
    const bucket = this.#buckets.get(podUid) ?? { tokens: burst, at: now };
    this.#buckets.delete(podUid); // re-inserted last: the map's order is least recently seen first
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) / refillMs);
    bucket.at = now;
    this.#buckets.set(podUid, bucket);
    if (this.#buckets.size > (this.#options.maxPods ?? DEFAULT_MAX_PODS)) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * refillMs) / 1000));
  }
}
