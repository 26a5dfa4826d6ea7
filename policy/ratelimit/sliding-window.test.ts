import { describe, expect, it, vi } from "vitest";
import {
  admitInLogs,
  normaliseRateLimitRequests,
  recordAdmission,
  retryAfterSeconds,
  SlidingWindowLimiter,
  windowWaitMs,
} from "./sliding-window.ts";
import { rateLimitKey, type AdmitResult, type RateLimitRequest, type RateLimitStore } from "./types.ts";

const MINUTE = 60_000;
const T0 = Date.parse("2025-06-01T12:00:00Z");

/** seed 000: run_test_iteration, 10 calls a minute per grant. */
function runTestIteration(grant: string): RateLimitRequest {
  return { key: rateLimitKey("agents", "run_test_iteration_rate", "grant", grant), counter: "run_test_iteration_rate", windowMs: MINUTE, max: 10 };
}

/** A store over admitInLogs, recording what it was asked. */
function logStore(): RateLimitStore & { logs: Map<string, number[]>; calls: RateLimitRequest[][] } {
  const logs = new Map<string, number[]>();
  const calls: RateLimitRequest[][] = [];
  return {
    logs,
    calls,
    admit(requests, nowMs) {
      calls.push([...requests]);
      return Promise.resolve(admitInLogs(logs, requests, nowMs));
    },
  };
}

describe("seed 000: 10 calls a minute per grant", () => {
  it("refuses the 11th within a rolling minute with the time until the oldest leaves", async () => {
    const limiter = new SlidingWindowLimiter(logStore());
    for (let i = 0; i < 10; i++) {
      expect(await limiter.admit([runTestIteration("alice")], T0 + i * 1000)).toEqual({ admitted: true });
    }
    // The oldest (T0) leaves the window at T0 + 60 s; at T0 + 30.5 s that is 29.5 s away.
    expect(await limiter.admit([runTestIteration("alice")], T0 + 30_500)).toEqual({
      admitted: false,
      counter: "run_test_iteration_rate",
      retryAfterSeconds: 30,
      cause: "window_full",
    });
  });

  it("leaves another grant's budget alone", async () => {
    const limiter = new SlidingWindowLimiter(logStore());
    for (let i = 0; i < 10; i++) await limiter.admit([runTestIteration("alice")], T0 + i);
    expect((await limiter.admit([runTestIteration("alice")], T0 + 100)).admitted).toBe(false);
    expect(await limiter.admit([runTestIteration("bob")], T0 + 100)).toEqual({ admitted: true });
  });

  it("admits again exactly when the oldest admitted call leaves the window (> t − window)", async () => {
    const limiter = new SlidingWindowLimiter(logStore());
    for (let i = 0; i < 10; i++) await limiter.admit([runTestIteration("alice")], T0 + i * 1000);
    expect(await limiter.admit([runTestIteration("alice")], T0 + MINUTE - 1)).toMatchObject({ admitted: false, retryAfterSeconds: 1 });
    expect(await limiter.admit([runTestIteration("alice")], T0 + MINUTE)).toEqual({ admitted: true });
    // Full again: the next room appears when T0 + 1 s leaves, one second later.
    expect(await limiter.admit([runTestIteration("alice")], T0 + MINUTE)).toMatchObject({ admitted: false, retryAfterSeconds: 1 });
    expect(await limiter.admit([runTestIteration("alice")], T0 + MINUTE + 1000)).toEqual({ admitted: true });
  });

  it("does not count refused calls", async () => {
    const limiter = new SlidingWindowLimiter(logStore());
    for (let i = 0; i < 10; i++) await limiter.admit([runTestIteration("alice")], T0);
    for (let i = 0; i < 50; i++) await limiter.admit([runTestIteration("alice")], T0 + 30_000 + i);
    expect(await limiter.admit([runTestIteration("alice")], T0 + MINUTE)).toEqual({ admitted: true });
  });
});

describe("windowWaitMs and retryAfterSeconds", () => {
  it("is 0 while the window has room", () => {
    expect(windowWaitMs([], 1000, 1, 0)).toBe(0);
    expect(windowWaitMs([10, 20], 1000, 3, 30)).toBe(0);
  });

  it("waits for the max-th newest admission when the log holds more than max (max was lowered)", () => {
    const log = [0, 100, 200, 300, 400, 500];
    // max 2: room appears when 400 leaves, at 1400.
    expect(windowWaitMs(log, 1000, 2, 600)).toBe(800);
    // Entries that already left do not count: at 1450, 400 is gone (≤ 1450 − 1000).
    expect(windowWaitMs(log, 1000, 2, 1450)).toBe(0);
  });

  it("rounds up to whole seconds and never says 0", () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(retryAfterSeconds(0)).toBe(1);
  });
});

describe("recordAdmission", () => {
  it("keeps the log ascending and only the newest max", () => {
    const log: number[] = [];
    for (const t of [5, 10, 7, 20, 1]) recordAdmission(log, t, 3);
    expect(log).toEqual([7, 10, 20]);
  });
});

describe("all-or-nothing over a call's limits", () => {
  const perMinute = (counter: string, max: number): RateLimitRequest => ({ key: rateLimitKey("", counter, "global", ""), counter, windowMs: MINUTE, max });
  const perHour = (counter: string, max: number): RateLimitRequest => ({ key: rateLimitKey("", counter, "global", ""), counter, windowMs: 60 * MINUTE, max });

  it("records in no window when one is full", async () => {
    const store = logStore();
    const limiter = new SlidingWindowLimiter(store);
    await limiter.admit([perMinute("a", 1)], T0);
    expect(await limiter.admit([perMinute("b", 5), perMinute("a", 1)], T0 + 1)).toMatchObject({ admitted: false, counter: "a" });
    expect(store.logs.get(perMinute("b", 5).key)).toBeUndefined();
    expect(await limiter.admit([perMinute("b", 5), perMinute("a", 1)], T0 + MINUTE)).toEqual({ admitted: true });
    expect(store.logs.get(perMinute("b", 5).key)).toEqual([T0 + MINUTE]);
  });

  it("names the counter whose room appears last", async () => {
    const limiter = new SlidingWindowLimiter(logStore());
    await limiter.admit([perMinute("minute", 1), perHour("hour", 1)], T0);
    expect(await limiter.admit([perMinute("minute", 1), perHour("hour", 1)], T0 + 1000)).toEqual({
      admitted: false,
      counter: "hour",
      retryAfterSeconds: 3599,
      cause: "window_full",
    });
  });
});

describe("one budget asked for twice in a call", () => {
  const shared: RateLimitRequest = { key: rateLimitKey("ns", "shared", "grant", "alice"), counter: "shared", windowMs: MINUTE, max: 2 };

  it("counts once (two policies naming the same counter share one budget)", async () => {
    const store = logStore();
    const limiter = new SlidingWindowLimiter(store);
    expect(await limiter.admit([shared, { ...shared }], T0)).toEqual({ admitted: true });
    expect(store.calls[0]).toHaveLength(1);
    expect(await limiter.admit([shared, shared], T0 + 1)).toEqual({ admitted: true });
    expect((await limiter.admit([shared], T0 + 2)).admitted).toBe(false);
  });

  it("applies the longest window and the smallest max when the two disagree", () => {
    const merged = normaliseRateLimitRequests([shared, { ...shared, counter: "other", windowMs: 2 * MINUTE, max: 5 }, { ...shared, max: 1 }]);
    expect(merged).toEqual({ ok: true, requests: [{ ...shared, windowMs: 2 * MINUTE, max: 1 }] });
  });
});

describe("malformed requests are refused, not guessed at", () => {
  const good: RateLimitRequest = { key: "k", counter: "c", windowMs: 1000, max: 1 };
  it.each([
    ["a zero window", { ...good, windowMs: 0 }],
    ["a fractional window", { ...good, windowMs: 1.5 }],
    ["a NaN window", { ...good, windowMs: Number.NaN }],
    ["max 0", { ...good, max: 0 }],
    ["an infinite max", { ...good, max: Number.POSITIVE_INFINITY }],
  ])("%s", async (_name, request) => {
    const store = logStore();
    expect(await new SlidingWindowLimiter(store).admit([good, request], T0)).toEqual({
      admitted: false,
      counter: "c",
      retryAfterSeconds: 1,
      cause: "invalid_request",
    });
    expect(store.calls).toHaveLength(0);
  });

  it("a time that is not a number", async () => {
    expect(await new SlidingWindowLimiter(logStore()).admit([good], Number.NaN)).toMatchObject({ admitted: false, cause: "invalid_request" });
  });
});

describe("SlidingWindowLimiter and its store", () => {
  it("admits a call without limits without asking the store", async () => {
    const store = logStore();
    expect(await new SlidingWindowLimiter(store).admit([], T0)).toEqual({ admitted: true });
    expect(store.calls).toHaveLength(0);
  });

  it("fails closed when the store throws, and reports the error", async () => {
    const failure = new Error("boom");
    const onStoreError = vi.fn();
    const throwing: RateLimitStore = { admit: () => Promise.reject(failure) };
    const result: AdmitResult = await new SlidingWindowLimiter(throwing, { onStoreError }).admit([runTestIteration("alice")], T0);
    expect(result).toEqual({ admitted: false, counter: "run_test_iteration_rate", retryAfterSeconds: 1, cause: "store_unavailable" });
    expect(onStoreError).toHaveBeenCalledWith(failure);
  });
});
