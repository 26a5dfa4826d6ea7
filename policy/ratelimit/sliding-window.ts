// The sliding-window-log algorithm, pure: logs and time are parameters, nothing here
// reads a clock or does I/O. The stores in sidecar/ratelimit/ keep the logs; the
// memory store calls these functions directly and the Redis store's Lua script is a
// transcription of them.
//
// Semantics (ARCHITECTURE.md "window"): a call at time t counts the admitted calls with
// timestamp > t − window; it is admitted only if every one of its limits has room, and
// then it is recorded in all of them. That bounds every rolling window, not only the
// ones ending at a call: for any window (a, a + w] holding t, every admitted s in it
// satisfies s > a ≥ t − w, so it was counted when t was decided.

import type { AdmitResult, RateLimitRequest, RateLimitStore } from "./types.ts";

/**
 * A budget's admitted timestamps in milliseconds, ascending. Keeping only the newest
 * `max` of them is enough for exact decisions: if the window holds `max` calls, they
 * are the newest `max`.
 */
export type AdmittedLog = readonly number[];

export type NormalisedRequests =
  | { ok: true; requests: RateLimitRequest[] }
  | { ok: false; counter: string; reason: string };

/**
 * Checks a call's requests against the contract and merges requests that name the same
 * key, because one key is one log and a call is recorded in it once (policies share a
 * budget by using the same counter name, so two policies can ask for the same key).
 * Equal keys normally carry equal window and max (policy validation rejects a counter
 * reused with a different window or max); if they ever differ, the merged request takes
 * the longest window and the smallest max, which is at least as strict as each of them.
 * The merged request keeps the first request's counter name and the first-seen order.
 */
export function normaliseRateLimitRequests(requests: readonly RateLimitRequest[]): NormalisedRequests {
  for (const request of requests) {
    const problem = requestProblem(request);
    if (problem !== undefined) return { ok: false, counter: String(request.counter), reason: problem };
  }
  if (requests.length <= 1) return { ok: true, requests: [...requests] };
  const byKey = new Map<string, RateLimitRequest>();
  for (const request of requests) {
    const seen = byKey.get(request.key);
    if (seen === undefined) {
      byKey.set(request.key, request);
    } else if (seen.windowMs !== request.windowMs || seen.max !== request.max) {
      byKey.set(request.key, {
        key: seen.key,
        counter: seen.counter,
        windowMs: Math.max(seen.windowMs, request.windowMs),
        max: Math.min(seen.max, request.max),
      });
    }
  }
  return { ok: true, requests: [...byKey.values()] };
}

function requestProblem(request: RateLimitRequest): string | undefined {
  if (typeof request.key !== "string") return "key is not a string";
  if (typeof request.counter !== "string") return "counter is not a string";
  if (!Number.isSafeInteger(request.windowMs) || request.windowMs <= 0) {
    return `windowMs ${String(request.windowMs)} is not a positive whole number of milliseconds`;
  }
  if (!Number.isSafeInteger(request.max) || request.max <= 0) {
    return `max ${String(request.max)} is not a positive whole number`;
  }
  return undefined;
}

/**
 * Milliseconds until the window has room at `nowMs`, 0 if it has room now. When the window
 * is full, room appears when the `max`-th newest admission leaves it: that is the
 * (count − max + 1)-th oldest in the window, the oldest one when the log holds exactly
 * `max` (count can exceed max after a policy lowered it).
 */
export function windowWaitMs(log: AdmittedLog, windowMs: number, max: number, nowMs: number): number {
  if (log.length < max) return 0;
  const pivot = log[log.length - max] as number;
  const leavesAt = pivot + windowMs;
  return leavesAt > nowMs ? leavesAt - nowMs : 0;
}

/** `max(1, ceil(wait / 1 s))`: never 0, so a client told to retry never retries at once. */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

export interface LongestWait {
  request: RateLimitRequest;
  waitMs: number;
}

/**
 * The full window that frees up last, or undefined if every window has room. Waiting
 * for it is enough for all of them (absent other admissions), so it is the one to name.
 * Ties go to the earlier request.
 */
export function findLongestWait(
  requests: readonly RateLimitRequest[],
  nowMs: number,
  logOf: (key: string) => AdmittedLog | undefined,
): LongestWait | undefined {
  let longest: LongestWait | undefined;
  for (const request of requests) {
    const log = logOf(request.key);
    if (log === undefined) continue;
    const waitMs = windowWaitMs(log, request.windowMs, request.max, nowMs);
    if (waitMs > 0 && (longest === undefined || waitMs > longest.waitMs)) longest = { request, waitMs };
  }
  return longest;
}

export function windowFullRefusal(longest: LongestWait): AdmitResult {
  return {
    admitted: false,
    counter: longest.request.counter,
    retryAfterSeconds: retryAfterSeconds(longest.waitMs),
    cause: "window_full",
  };
}

/**
 * Records an admission at `nowMs` in `log` (mutated in place), keeping it ascending and
 * no longer than `max`. Times normally arrive in order, so the insertion point is found
 * from the end; a clock that stepped back still yields a sorted log.
 */
export function recordAdmission(log: number[], nowMs: number, max: number): void {
  let at = log.length;
  while (at > 0 && (log[at - 1] as number) > nowMs) at--;
  if (at === log.length) log.push(nowMs);
  else log.splice(at, 0, nowMs);
  if (log.length > max) log.splice(0, log.length - max);
}

/**
 * The whole algorithm over logs held in a Map: check every request, then record all or
 * none. For in-process use where no key cap is needed (e.g. evaluating a file of calls);
 * the sidecar's memory store adds the key cap and expiry.
 */
export function admitInLogs(
  logs: Map<string, number[]>,
  requests: readonly RateLimitRequest[],
  nowMs: number,
): AdmitResult {
  const normalised = normaliseRateLimitRequests(requests);
  if (!normalised.ok) return invalidRequestRefusal(normalised.counter);
  if (!Number.isFinite(nowMs)) return invalidRequestRefusal(normalised.requests[0]?.counter ?? "");
  const longest = findLongestWait(normalised.requests, nowMs, (key) => logs.get(key));
  if (longest !== undefined) return windowFullRefusal(longest);
  for (const request of normalised.requests) {
    let log = logs.get(request.key);
    if (log === undefined) {
      log = [];
      logs.set(request.key, log);
    }
    recordAdmission(log, nowMs, request.max);
  }
  return { admitted: true };
}

export function invalidRequestRefusal(counter: string): AdmitResult {
  return { admitted: false, counter, retryAfterSeconds: 1, cause: "invalid_request" };
}

export function storeUnavailableRefusal(counter: string): AdmitResult {
  return { admitted: false, counter, retryAfterSeconds: 1, cause: "store_unavailable" };
}

export interface SlidingWindowLimiterOptions {
  /** Told about a store that threw; the call is refused (fail closed). */
  onStoreError?: (error: unknown) => void;
}

/**
 * Applies a call's limits all-or-nothing through a store. Validates and de-duplicates
 * the requests first (see `normaliseRateLimitRequests`), so stores see each key once.
 * Never throws: a malformed request or a store that throws refuses the call.
 */
export class SlidingWindowLimiter {
  readonly #store: RateLimitStore;
  readonly #onStoreError: ((error: unknown) => void) | undefined;

  constructor(store: RateLimitStore, options: SlidingWindowLimiterOptions = {}) {
    this.#store = store;
    this.#onStoreError = options.onStoreError;
  }

  async admit(requests: readonly RateLimitRequest[], nowMs: number): Promise<AdmitResult> {
    const normalised = normaliseRateLimitRequests(requests);
    if (!normalised.ok) return invalidRequestRefusal(normalised.counter);
    const first = normalised.requests[0];
    if (first === undefined) return { admitted: true };
    if (!Number.isFinite(nowMs)) return invalidRequestRefusal(first.counter);
    try {
      return await this.#store.admit(normalised.requests, nowMs);
    } catch (error) {
      this.#onStoreError?.(error);
      return storeUnavailableRefusal(first.counter);
    }
  }
}
