// Per-replica sliding-window logs in process memory. Synchronous inside, so an admit is
// atomic with respect to every other admit in this process.

import {
  findLongestWait,
  invalidRequestRefusal,
  normaliseRateLimitRequests,
  recordAdmission,
  retryAfterSeconds,
  windowFullRefusal,
} from "../../policy/ratelimit/sliding-window.ts";
import type { AdmitResult, RateLimitRequest, RateLimitStore } from "../../policy/ratelimit/types.ts";

const DEFAULT_MAX_KEYS = 100_000;
const DEFAULT_SWEEP_PER_ADMIT = 16;

export interface MemoryRateLimitStoreOptions {
  /**
   * Most budgets (keys) held at once. A call that needs a key the store does not hold
   * while it holds this many live keys is refused with cause `capacity`: evicting a live
   * key would forget admissions and let its budget exceed `max`.
   */
  maxKeys?: number;
  /**
   * Called once for every call refused because the store is at `maxKeys`, with the
   * counter of the first new key. The sidecar counts these as
   * `mcpwarden_rate_limit_evictions_total`: the store never evicts, so a refusal at the
   * cap is what that metric reports.
   */
  onCapacityRefusal?: (counter: string) => void;
  /**
   * Most expired keys dropped per admit, so a mass expiry is spread over many calls
   * instead of stalling one. At the cap, every expired key is dropped. Default 16.
   */
  sweepPerAdmit?: number;
}

interface KeyEntry {
  readonly key: string;
  windowMs: number;
  /** Ascending, at most the newest `max` admissions (see AdmittedLog). */
  readonly log: number[];
  // Links in the entry's window group (see #byWindow).
  older: KeyEntry | undefined;
  newer: KeyEntry | undefined;
}

/** A window's keys, least recently admitted first (an intrusive doubly linked list). */
interface WindowGroup {
  oldest: KeyEntry | undefined;
  newest: KeyEntry | undefined;
}

export class MemoryRateLimitStore implements RateLimitStore {
  readonly #entries = new Map<string, KeyEntry>();
  // Keys grouped by window length, each group in order of latest admission: a group's
  // oldest key is its next to expire, so dropping expired keys never scans live ones and
  // needs no timer. (Only a clock that stepped back can put a later-expiring key first;
  // the sweep then stops early, keeping keys longer, never dropping a live one.) A linked
  // list rather than a Map's insertion order: moving a key to the back of a Map leaves a
  // hole at the front that every later scan from the front walks over until V8 rehashes.
  readonly #byWindow = new Map<number, WindowGroup>();
  readonly #maxKeys: number;
  readonly #sweepPerAdmit: number;
  readonly #onCapacityRefusal: ((counter: string) => void) | undefined;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.#maxKeys = nonNegativeInteger(options.maxKeys, DEFAULT_MAX_KEYS, "maxKeys");
    this.#sweepPerAdmit = nonNegativeInteger(options.sweepPerAdmit, DEFAULT_SWEEP_PER_ADMIT, "sweepPerAdmit");
    this.#onCapacityRefusal = options.onCapacityRefusal;
  }

  /** Keys currently held (live, or expired and not yet dropped). */
  get size(): number {
    return this.#entries.size;
  }

  admit(requests: readonly RateLimitRequest[], nowMs: number): Promise<AdmitResult> {
    return Promise.resolve(this.admitSync(requests, nowMs));
  }

  admitSync(requests: readonly RateLimitRequest[], nowMs: number): AdmitResult {
    const normalised = normaliseRateLimitRequests(requests);
    if (!normalised.ok) return invalidRequestRefusal(normalised.counter);
    const wanted = normalised.requests;
    const first = wanted[0];
    if (first === undefined) return { admitted: true };
    if (!Number.isFinite(nowMs)) return invalidRequestRefusal(first.counter);

    // Before the sweep, so a budget whose window a policy change just widened is judged
    // by its new window and not dropped under the old one.
    for (const request of wanted) {
      const entry = this.#entries.get(request.key);
      if (entry !== undefined && entry.windowMs !== request.windowMs) this.#refile(entry, request.windowMs);
    }
    this.sweep(nowMs, this.#sweepPerAdmit);
    const longest = findLongestWait(wanted, nowMs, (key) => this.#entries.get(key)?.log);
    if (longest !== undefined) return windowFullRefusal(longest);

    if (this.#entries.size + this.#countNewKeys(wanted) > this.#maxKeys) {
      // Drop every expired key, not just enough: a dropped key may be one this call asks
      // for, which then becomes new. Each key is dropped once per creation, so this stays
      // cheap on average even when the store sits at its cap.
      this.sweep(nowMs);
      const newKeys = this.#countNewKeys(wanted);
      if (this.#entries.size + newKeys > this.#maxKeys) {
        const firstNew = wanted.find((request) => !this.#entries.has(request.key)) ?? first;
        this.#onCapacityRefusal?.(firstNew.counter);
        return {
          admitted: false,
          counter: firstNew.counter,
          retryAfterSeconds: retryAfterSeconds(this.#nextExpiryMs(nowMs) - nowMs),
          cause: "capacity",
        };
      }
    }

    for (const request of wanted) this.#record(request, nowMs);
    return { admitted: true };
  }

  /** Drops up to `limit` keys whose whole log has left its window; returns how many. */
  sweep(nowMs: number, limit = Number.POSITIVE_INFINITY): number {
    let dropped = 0;
    for (const [windowMs, group] of this.#byWindow) {
      while (dropped < limit && group.oldest !== undefined && isExpired(group.oldest, nowMs)) {
        const entry = group.oldest;
        unlink(group, entry);
        this.#entries.delete(entry.key);
        dropped++;
      }
      if (group.oldest === undefined) this.#byWindow.delete(windowMs);
      if (dropped >= limit) break;
    }
    return dropped;
  }

  #countNewKeys(requests: readonly RateLimitRequest[]): number {
    let count = 0;
    for (const request of requests) if (!this.#entries.has(request.key)) count++;
    return count;
  }

  #record(request: RateLimitRequest, nowMs: number): void {
    const entry = this.#entries.get(request.key);
    if (entry === undefined) {
      // The log starts as a literal holding its first admission: an empty array's first
      // push reserves room for 17 numbers, a third of a key's memory (bench "scaling").
      const created: KeyEntry = { key: request.key, windowMs: request.windowMs, log: [nowMs], older: undefined, newer: undefined };
      this.#entries.set(request.key, created);
      append(this.#group(created.windowMs), created);
      return;
    }
    const group = this.#group(entry.windowMs);
    if (group.newest !== entry) {
      unlink(group, entry);
      append(group, entry);
    }
    recordAdmission(entry.log, nowMs, request.max);
  }

  /**
   * A policy change gave the budget's counter a new window. The log carries over, so the
   * calls already admitted count against the new window. The key goes to the back of its
   * new group, possibly behind keys that expire later: the sweep then stops early there,
   * which delays drops but never drops a live key.
   */
  #refile(entry: KeyEntry, windowMs: number): void {
    const group = this.#byWindow.get(entry.windowMs);
    if (group !== undefined) {
      unlink(group, entry);
      if (group.oldest === undefined) this.#byWindow.delete(entry.windowMs);
    }
    entry.windowMs = windowMs;
    append(this.#group(windowMs), entry);
  }

  #group(windowMs: number): WindowGroup {
    let group = this.#byWindow.get(windowMs);
    if (group === undefined) {
      group = { oldest: undefined, newest: undefined };
      this.#byWindow.set(windowMs, group);
    }
    return group;
  }

  /** When the first held key will have expired (at the latest nowMs + 1 s when none is known). */
  #nextExpiryMs(nowMs: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const group of this.#byWindow.values()) {
      if (group.oldest !== undefined) next = Math.min(next, expiresAtMs(group.oldest));
    }
    return Number.isFinite(next) ? next : nowMs + 1000;
  }
}

function append(group: WindowGroup, entry: KeyEntry): void {
  entry.older = group.newest;
  entry.newer = undefined;
  if (group.newest === undefined) group.oldest = entry;
  else group.newest.newer = entry;
  group.newest = entry;
}

function unlink(group: WindowGroup, entry: KeyEntry): void {
  if (entry.older === undefined) group.oldest = entry.newer;
  else entry.older.newer = entry.newer;
  if (entry.newer === undefined) group.newest = entry.older;
  else entry.newer.older = entry.older;
  entry.older = undefined;
  entry.newer = undefined;
}

function expiresAtMs(entry: KeyEntry): number {
  const newest = entry.log[entry.log.length - 1];
  return newest === undefined ? Number.NEGATIVE_INFINITY : newest + entry.windowMs;
}

function isExpired(entry: KeyEntry, nowMs: number): boolean {
  return expiresAtMs(entry) <= nowMs;
}

function nonNegativeInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`MemoryRateLimitStore: ${name} must be a non-negative whole number, got ${String(value)}`);
  }
  return value;
}
