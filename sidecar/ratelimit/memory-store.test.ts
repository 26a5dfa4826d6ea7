import { describe, expect, it, vi } from "vitest";
import { rateLimitKey, type RateLimitRequest } from "../../policy/ratelimit/types.ts";
import { MemoryRateLimitStore } from "./memory-store.ts";

const MINUTE = 60_000;

function perMinute(grant: string, max = 2, counter = "calls"): RateLimitRequest {
  return { key: rateLimitKey("", counter, "grant", grant), counter, windowMs: MINUTE, max };
}

describe("MemoryRateLimitStore at its key cap", () => {
  it("refuses a call needing a new key, counts it, and never evicts a live key", () => {
    const onCapacityRefusal = vi.fn();
    const store = new MemoryRateLimitStore({ maxKeys: 2, onCapacityRefusal });
    expect(store.admitSync([perMinute("a")], 0)).toEqual({ admitted: true });
    expect(store.admitSync([perMinute("b")], 1_000)).toEqual({ admitted: true });

    // a expires at 60 s, the first key to leave: at 10 s that is 50 s away.
    expect(store.admitSync([perMinute("c")], 10_000)).toEqual({ admitted: false, counter: "calls", retryAfterSeconds: 50, cause: "capacity" });
    expect(onCapacityRefusal).toHaveBeenCalledTimes(1);
    expect(onCapacityRefusal).toHaveBeenCalledWith("calls");
    expect(store.size).toBe(2);

    // The held keys still remember their admissions.
    expect(store.admitSync([perMinute("a")], 20_000)).toEqual({ admitted: true });
    expect(store.admitSync([perMinute("a")], 20_001)).toMatchObject({ admitted: false, cause: "window_full", retryAfterSeconds: 40 });
  });

  it("admits the new key once an old key's whole log has expired, dropping that key", () => {
    const store = new MemoryRateLimitStore({ maxKeys: 2, sweepPerAdmit: 0 });
    store.admitSync([perMinute("a")], 0);
    store.admitSync([perMinute("b")], 30_000);
    expect(store.admitSync([perMinute("c")], 59_999).admitted).toBe(false);
    expect(store.admitSync([perMinute("c")], 60_000)).toEqual({ admitted: true });
    expect(store.size).toBe(2);
    // a was dropped: its budget starts empty (it had expired, so nothing is lost).
    expect(store.admitSync([perMinute("b")], 60_001)).toEqual({ admitted: true });
    expect(store.admitSync([perMinute("b")], 60_002).admitted).toBe(false);
  });

  it("refuses the whole call when only some of its new keys fit, consuming nothing", () => {
    const store = new MemoryRateLimitStore({ maxKeys: 2 });
    store.admitSync([perMinute("a", 1)], 0);
    expect(store.admitSync([perMinute("b", 1), perMinute("c", 1)], 1).admitted).toBe(false);
    expect(store.size).toBe(1);
    expect(store.admitSync([perMinute("b", 1)], 2)).toEqual({ admitted: true });
  });

  it("reports a full window before the cap, without counting a capacity refusal", () => {
    const onCapacityRefusal = vi.fn();
    const store = new MemoryRateLimitStore({ maxKeys: 1, onCapacityRefusal });
    store.admitSync([perMinute("a", 1)], 0);
    expect(store.admitSync([perMinute("a", 1), perMinute("b", 1)], 1)).toMatchObject({ admitted: false, cause: "window_full" });
    expect(onCapacityRefusal).not.toHaveBeenCalled();
  });

  it("can hold no keys at all (maxKeys 0 refuses every limited call)", () => {
    const store = new MemoryRateLimitStore({ maxKeys: 0 });
    expect(store.admitSync([perMinute("a")], 0)).toMatchObject({ admitted: false, cause: "capacity", retryAfterSeconds: 1 });
    expect(store.admitSync([], 0)).toEqual({ admitted: true });
  });
});

describe("MemoryRateLimitStore expiry", () => {
  it("drops expired keys a few per admit, without timers", () => {
    const store = new MemoryRateLimitStore({ sweepPerAdmit: 2 });
    for (let i = 0; i < 10; i++) store.admitSync([perMinute(`grant-${i}`)], i);
    expect(store.size).toBe(10);
    store.admitSync([perMinute("late")], MINUTE + 100);
    expect(store.size).toBe(9); // 2 dropped, 1 added
    store.admitSync([perMinute("late")], MINUTE + 101);
    expect(store.size).toBe(7);
    expect(store.sweep(MINUTE + 102)).toBe(6);
    expect(store.size).toBe(1);
  });

  it("keeps a key while any of its admissions is in the window, across window lengths", () => {
    const store = new MemoryRateLimitStore();
    const hourly: RateLimitRequest = { key: rateLimitKey("", "hourly", "global", ""), counter: "hourly", windowMs: 60 * MINUTE, max: 1 };
    store.admitSync([hourly], 0);
    store.admitSync([perMinute("a")], 0);
    expect(store.sweep(MINUTE)).toBe(1);
    expect(store.admitSync([hourly], MINUTE).admitted).toBe(false);
    expect(store.sweep(60 * MINUTE)).toBe(1);
    expect(store.size).toBe(0);
  });

  it("carries a live budget's log over when a policy change gives its counter a new window", () => {
    // (A key that already expired under its old window may have been dropped: widening a
    // window does not resurrect calls that had left the old one.)
    const store = new MemoryRateLimitStore();
    store.admitSync([perMinute("a", 1)], 0);
    const longer = { ...perMinute("a", 1), windowMs: 10 * MINUTE };
    expect(store.admitSync([longer], 30_000)).toMatchObject({ admitted: false, retryAfterSeconds: 570 });
    expect(store.sweep(5 * MINUTE)).toBe(0);
    expect(store.admitSync([longer], 10 * MINUTE)).toEqual({ admitted: true });
  });
});

describe("MemoryRateLimitStore.admit", () => {
  it("is the synchronous decision wrapped in a promise", async () => {
    const store = new MemoryRateLimitStore();
    expect(await store.admit([perMinute("a", 1)], 0)).toEqual({ admitted: true });
    expect(await store.admit([perMinute("a", 1)], 1)).toMatchObject({ admitted: false, cause: "window_full" });
  });
});
