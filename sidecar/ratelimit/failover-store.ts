// Uses the shared (Redis) store while it answers and applies `failureMode` while it does
// not. This is the one configured exception to "fail closed" (ARCHITECTURE.md
// Invariants), so every switch is reported through `onFallbackChange`, which the
// sidecar exports as the gauge `mcpwarden_rate_limit_store_fallback`.
//
// `local` limits each replica on its own: during an outage a budget can admit up to
// max × replicas per window, and after recovery Redis does not know the calls admitted
// locally, so a window spanning the switch can briefly hold more than max.

import { storeUnavailableRefusal } from "../../policy/ratelimit/sliding-window.ts";
import type { RateLimitFailureMode } from "../../protocol/index.ts";
import type { AdmitResult, RateLimitRequest, RateLimitStore } from "../../policy/ratelimit/types.ts";
import { MemoryRateLimitStore } from "./memory-store.ts";
import type { SharedStoreAttempt } from "./redis-store.ts";

/** A store several replicas share and that can be out of reach (RedisRateLimitStore). */
export interface SharedRateLimitStore {
  /** Never rejects; `reached: false` when the store did not answer. */
  attemptAdmit(requests: readonly RateLimitRequest[], nowMs: number): Promise<SharedStoreAttempt>;
  /** False when a call would certainly fail (e.g. not connected), so it is not tried. */
  isReachable(): boolean;
  close?(): Promise<void>;
}

export interface FailoverRateLimitStoreOptions {
  shared: SharedRateLimitStore;
  /** Default "local". */
  failureMode?: RateLimitFailureMode;
  /** The per-replica store for `local`; default a new MemoryRateLimitStore. */
  local?: RateLimitStore;
  /** true when calls stop reaching the shared store, false when they reach it again. */
  onFallbackChange?: (active: boolean) => void;
  /** Each failed attempt on the shared store (for logs). */
  onSharedStoreError?: (error: Error) => void;
  /**
   * After a failed attempt, calls skip the shared store for this long, so a Redis that
   * times out costs one command timeout per interval rather than one per call. A
   * disconnected client is skipped without waiting (isReachable). Default 1000 ms.
   */
  retrySharedAfterMs?: number;
  /** Monotonic milliseconds for that interval (the call's nowMs may be a test clock). */
  monotonicNowMs?: () => number;
}

export class FailoverRateLimitStore implements RateLimitStore {
  readonly #shared: SharedRateLimitStore;
  readonly #failureMode: RateLimitFailureMode;
  readonly #local: RateLimitStore | undefined;
  readonly #onFallbackChange: ((active: boolean) => void) | undefined;
  readonly #onSharedStoreError: ((error: Error) => void) | undefined;
  readonly #retrySharedAfterMs: number;
  readonly #monotonicNowMs: () => number;
  #skipSharedUntil = Number.NEGATIVE_INFINITY;
  #fallbackActive = false;

  constructor(options: FailoverRateLimitStoreOptions) {
    this.#shared = options.shared;
    this.#failureMode = options.failureMode ?? "local";
    this.#local = this.#failureMode === "local" ? (options.local ?? new MemoryRateLimitStore()) : undefined;
    this.#onFallbackChange = options.onFallbackChange;
    this.#onSharedStoreError = options.onSharedStoreError;
    this.#retrySharedAfterMs = options.retrySharedAfterMs ?? 1000;
    this.#monotonicNowMs = options.monotonicNowMs ?? (() => performance.now());
  }

  /** Whether the last call was decided by `failureMode` instead of the shared store. */
  get fallbackActive(): boolean {
    return this.#fallbackActive;
  }

  async admit(requests: readonly RateLimitRequest[], nowMs: number): Promise<AdmitResult> {
    // A call without limits needs no store, so an outage must not refuse it.
    if (requests.length === 0) return { admitted: true };
    if (this.#shared.isReachable() && this.#monotonicNowMs() >= this.#skipSharedUntil) {
      const attempt = await this.#shared.attemptAdmit(requests, nowMs);
      if (attempt.reached) {
        this.#setFallback(false);
        return attempt.result;
      }
      this.#skipSharedUntil = this.#monotonicNowMs() + this.#retrySharedAfterMs;
      this.#onSharedStoreError?.(attempt.error);
    }
    this.#setFallback(true);
    switch (this.#failureMode) {
      case "allow":
        return { admitted: true };
      case "deny":
        return storeUnavailableRefusal(requests[0]?.counter ?? "");
      case "local":
        return (this.#local as RateLimitStore).admit(requests, nowMs);
    }
  }

  async close(): Promise<void> {
    await this.#shared.close?.();
    await this.#local?.close?.();
  }

  #setFallback(active: boolean): void {
    if (this.#fallbackActive === active) return;
    this.#fallbackActive = active;
    this.#onFallbackChange?.(active);
  }
}
