import { afterEach, describe, expect, it, vi } from "vitest";
import { DefinitionReport } from "./definition-report.ts";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const quiet = { debug: () => undefined, warn: () => undefined };
const record = (tool: string, digest: string) => ({ tool, digest, previous: undefined, unpinned: [] });

afterEach(() => {
  vi.useRealTimers();
});

describe("DefinitionReport", () => {
  it("reports the pod's whole view when a listing shows a digest not reported yet, at most once per interval", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const posts: unknown[] = [];
    const post = async (path: string, body: unknown) => {
      posts.push([path, body]);
      return { status: 204, text: "" };
    };
    const report = new DefinitionReport({ post, logger: quiet, minIntervalMs: 1_000 });
    report.onToolDefinition(record("list_runs", A));
    report.onToolDefinition(record("get_run", A));
    await vi.advanceTimersByTimeAsync(0);
    expect(posts).toEqual([["/v1/tool-definitions", { tools: { list_runs: A, get_run: A } }]]);
    report.onToolDefinition(record("list_runs", A)); // reported already
    report.onToolDefinition(record("list_runs", B));
    await vi.advanceTimersByTimeAsync(500);
    expect(posts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(posts.at(-1)).toEqual(["/v1/tool-definitions", { tools: { list_runs: B, get_run: A } }]);
    report.stop();
  });

  it("retries a failed report with backoff until the operator takes it", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const statuses = [503, 429, 204];
    let calls = 0;
    const report = new DefinitionReport({ post: async () => ({ status: statuses[calls++] ?? 204, text: "" }), logger: quiet, minIntervalMs: 1_000 });
    report.onToolDefinition(record("list_runs", A));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls).toBe(3);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(3);
    report.stop();
  });
});
