import { afterEach, describe, expect, it, vi } from "vitest";
import { WorkQueue } from "./work-queue.ts";

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("WorkQueue", () => {
  afterEach(() => vi.useRealTimers());

  it("runs a key added many times while waiting once", async () => {
    const runs: string[] = [];
    const gate = deferred();
    const queue = new WorkQueue({
      concurrency: 1,
      process: async (key) => {
        runs.push(key);
        if (key === "blocker") await gate.promise;
      },
    });
    queue.add("blocker");
    for (let i = 0; i < 5; i++) queue.add("a/p");
    queue.add("b/p");
    queue.add("a/p");
    gate.resolve();
    await queue.idle();
    expect(runs).toEqual(["blocker", "a/p", "b/p"]);
  });

  it("never runs one key twice at once, and runs it again when it was added meanwhile", async () => {
    let running = 0;
    let maxRunning = 0;
    const gates: ReturnType<typeof deferred>[] = [];
    const queue = new WorkQueue({
      concurrency: 4,
      process: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        const gate = deferred();
        gates.push(gate);
        await gate.promise;
        running--;
      },
    });
    queue.add("k");
    await Promise.resolve();
    queue.add("k"); // while processing: marked dirty, not run in parallel
    queue.add("k");
    expect(gates).toHaveLength(1);
    gates[0]?.resolve();
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    gates[1]?.resolve();
    await queue.idle();
    expect(maxRunning).toBe(1);
    expect(gates).toHaveLength(2);
  });

  it("retries a failing key with per-key exponential backoff, and resets it on success", async () => {
    vi.useFakeTimers();
    const times: number[] = [];
    let failures = 3;
    const errors: number[] = [];
    const queue = new WorkQueue({
      baseDelayMs: 100,
      maxDelayMs: 1000,
      process: async () => {
        times.push(Date.now());
        if (failures-- > 0) throw new Error("conflict");
      },
      onError: (_key, _error, retryInMs) => errors.push(retryInMs),
    });
    const start = Date.now();
    queue.add("k");
    await vi.advanceTimersByTimeAsync(5000);
    expect(errors).toEqual([100, 200, 400]);
    expect(times.map((t) => t - start)).toEqual([0, 100, 300, 700]);
    // Succeeded: the next failure starts from the base delay again.
    failures = 1;
    errors.length = 0;
    queue.add("k");
    await vi.advanceTimersByTimeAsync(5000);
    expect(errors).toEqual([100]);
  });

  it("caps the backoff and keeps other keys flowing while one fails", async () => {
    vi.useFakeTimers();
    const runs: string[] = [];
    const delays: number[] = [];
    const queue = new WorkQueue({
      concurrency: 1,
      baseDelayMs: 100,
      maxDelayMs: 250,
      process: async (key) => {
        runs.push(key);
        if (key === "bad") throw new Error("no");
      },
      onError: (_key, _error, delay) => delays.push(delay),
    });
    queue.add("bad");
    queue.add("good");
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs.slice(0, 2)).toEqual(["bad", "good"]);
    expect(Math.max(...delays)).toBe(250);
    await queue.shutDown();
  });

  it("an add cancels a pending delayed retry instead of running twice", async () => {
    vi.useFakeTimers();
    let calls = 0;
    const queue = new WorkQueue({
      baseDelayMs: 1000,
      process: async () => {
        calls++;
        if (calls === 1) throw new Error("once");
      },
    });
    queue.add("k");
    await vi.advanceTimersByTimeAsync(10);
    queue.add("k"); // before the 1 s retry
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(2);
  });

  it("drops everything after shutDown", async () => {
    const runs: string[] = [];
    const queue = new WorkQueue({ process: async (key) => void runs.push(key) });
    await queue.shutDown();
    queue.add("late");
    await queue.idle();
    expect(runs).toEqual([]);
  });
});
