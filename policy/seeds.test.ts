// The seed documents (examples/policies/, cut verbatim from ../shared/seeds/) decide as
// PolicyLayer documents them, in both formats, rate limits admitted through the real
// sliding-window limiter over the algorithm's own logs (admitInLogs; the sidecar's stores
// run the same steps and are tested against it in sidecar/ratelimit/).

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { admitCall } from "./admit-call.ts";
import { compilePolicies } from "./compile-policies.ts";
import type { DecisionTable } from "./decision-table.ts";
import { evaluateCall } from "./evaluate-call.ts";
import { filterToolsList } from "./filter-tools-list.ts";
import { formatProblem } from "./problems.ts";
import { admitInLogs, SlidingWindowLimiter } from "./ratelimit/sliding-window.ts";
import { rateLimitKey } from "./ratelimit/types.ts";
import { policiesFromText } from "./read-policy-text.ts";
import { testCache } from "../test/support/policy-engines.ts";

function tableFromExample(file: string): DecisionTable {
  const text = readFileSync(new URL(`../examples/policies/${file}`, import.meta.url), "utf8");
  const read = policiesFromText(text, { name: file.replace(/\.policylayer\.json$/, "") }, testCache());
  if (!read.ok) throw new Error(read.problems.map(formatProblem).join("\n"));
  const compiled = compilePolicies(read.policies, testCache());
  if (!compiled.ok) throw new Error(compiled.problems.map(formatProblem).join("\n"));
  return compiled.table;
}

const T0 = Date.parse("2026-11-22T10:00:00Z");
const call = (tool: string, grant = "alice") => ({ tool, arguments: {}, identity: { id: grant }, session: { id: `session-of-${grant}` } });

describe.each([
  ["mockloop.policylayer.json", ""],
  ["mockloop.yaml", "agents"],
])("seed 000 (%s): run_test_iteration at most 10 per rolling minute per grant, everything else denied", (file, namespace) => {
  const table = tableFromExample(file);
  const policy = namespace === "" ? "mockloop" : "agents/mockloop";

  it("allows run_test_iteration with its rate-limit request", () => {
    const evaluation = evaluateCall(table, call("run_test_iteration"), T0);
    expect(evaluation.decision).toEqual({ decision: "allow", policy, rule: 'tools["run_test_iteration"]', reason: "allowed" });
    expect(evaluation.rateLimits).toEqual([
      {
        key: rateLimitKey(namespace, "run_test_iteration_rate", "grant", "alice"),
        counter: "run_test_iteration_rate",
        windowMs: 60_000,
        max: 10,
        scope: "grant",
        policy,
        rule: 'tools["run_test_iteration"].limits[0]',
      },
    ]);
  });

  it("denies every other tool, and lists only run_test_iteration", () => {
    for (const tool of ["list_runs", "Run_Test_Iteration", "run_test_iteration2", "run_test_iteratio", "delete_everything"]) {
      expect(evaluateCall(table, call(tool), T0).decision).toEqual({
        decision: "deny",
        policy,
        rule: "default",
        reason: "this tool is not allowed (default: deny)",
      });
    }
    expect(filterToolsList(table, [{ name: "run_test_iteration" }, { name: "list_runs" }])).toEqual([{ name: "run_test_iteration" }]);
  });

  it("rate-limits the 11th call in a rolling minute, per grant, until the oldest leaves the window", async () => {
    const logs = new Map<string, number[]>();
    const limiter = new SlidingWindowLimiter({ admit: async (requests, nowMs) => admitInLogs(logs, requests, nowMs) });
    const at = async (offsetMs: number, grant = "alice") => {
      const evaluation = evaluateCall(table, call("run_test_iteration", grant), T0 + offsetMs);
      return (await admitCall(evaluation, limiter, T0 + offsetMs)).decision;
    };
    for (let index = 0; index < 10; index++) expect((await at(index * 1000)).decision).toBe("allow");
    expect(await at(10_000)).toEqual({
      decision: "rate_limited",
      policy,
      rule: 'tools["run_test_iteration"].limits[0]',
      reason: "rate limit run_test_iteration_rate reached: at most 10 calls per minute per grant",
      retryAfterSeconds: 50,
    });
    expect((await at(10_000, "bob")).decision).toBe("allow");
    expect(await at(59_999)).toMatchObject({ decision: "rate_limited", retryAfterSeconds: 1 });
    // At T0 + 60 s the call at T0 is no longer in the window (only timestamps > t − window count).
    expect((await at(60_000)).decision).toBe("allow");
    expect(await at(60_001)).toMatchObject({ decision: "rate_limited", retryAfterSeconds: 1 });
    expect((await at(61_000)).decision).toBe("allow");
  });
});

describe.each(["mock-mcp.policylayer.json", "mock-mcp.yaml"])("seed 002 (%s): only list_runs", (file) => {
  const table = tableFromExample(file);

  it("allows list_runs and denies List_Runs and everything else", () => {
    expect(evaluateCall(table, call("list_runs"), T0)).toMatchObject({ decision: { decision: "allow", rule: 'tools["list_runs"]' }, rateLimits: [] });
    for (const tool of ["List_Runs", "LIST_RUNS", "list_runs_all", "list_run", "run_test_iteration", "list_runѕ", ""]) {
      expect(evaluateCall(table, call(tool), T0).decision).toMatchObject({ decision: "deny", rule: "default" });
    }
    expect(filterToolsList(table, [{ name: "List_Runs" }, { name: "list_runs" }, { name: "delete_run" }])).toEqual([{ name: "list_runs" }]);
  });
});
