import { describe, expect, it } from "vitest";
import { admitCall, admitRateLimits, rateLimitedDecision, type RateLimitAdmitter } from "./admit-call.ts";
import { compilePolicies } from "./compile-policies.ts";
import type { DecisionTable } from "./decision-table.ts";
import type { PolicyRateLimitRequest } from "./decision.ts";
import { evaluateCall } from "./evaluate-call.ts";
import { MCP_POLICY_API_VERSION, MCP_POLICY_KIND, type McpPolicy, type McpPolicySpec } from "./model.ts";
import { admitInLogs } from "./ratelimit/sliding-window.ts";
import type { RateLimitRequest, RateLimitStore } from "./ratelimit/types.ts";
import { testCache } from "../test/support/policy-engines.ts";

function policy(name: string, spec: McpPolicySpec): McpPolicy {
  return { apiVersion: MCP_POLICY_API_VERSION, kind: MCP_POLICY_KIND, metadata: { name, namespace: "agents" }, spec };
}

function table(...policies: McpPolicy[]): DecisionTable {
  const result = compilePolicies(policies, testCache());
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.table;
}

const call = (tool: string, grant = "alice") => ({ tool, identity: { id: grant }, session: { id: "s" } });

const request: PolicyRateLimitRequest = {
  key: "k",
  counter: "runs",
  windowMs: 3_600_000,
  max: 100,
  scope: "session",
  policy: "agents/p",
  rule: 'tools["run"].limits[0]',
};

describe("rateLimitedDecision", () => {
  it("names the limit that refused and the retry time", () => {
    expect(rateLimitedDecision([request], { admitted: false, counter: "runs", retryAfterSeconds: 7, cause: "window_full" })).toEqual({
      decision: "rate_limited",
      policy: "agents/p",
      rule: 'tools["run"].limits[0]',
      reason: "rate limit runs reached: at most 100 calls per hour per session",
      retryAfterSeconds: 7,
    });
  });

  it("explains a store that is full or unavailable", () => {
    const capacity = rateLimitedDecision([request], { admitted: false, counter: "runs", retryAfterSeconds: 1, cause: "capacity" });
    expect(capacity.reason).toBe("the rate-limit store is full");
    const down = rateLimitedDecision([request], { admitted: false, counter: "runs", retryAfterSeconds: 1, cause: "store_unavailable" });
    expect(down).toMatchObject({ decision: "rate_limited", reason: "the rate-limit store is unavailable" });
  });
});

describe("admitCall", () => {
  it("does not admit limits of a call that needs approval; admitRateLimits does once it is approved", async () => {
    const calls: (readonly RateLimitRequest[])[] = [];
    const admitter: RateLimitAdmitter = {
      admit: (requests) => {
        calls.push(requests);
        return Promise.resolve({ admitted: false, counter: "d", retryAfterSeconds: 3, cause: "window_full" });
      },
    };
    const held = table(policy("p", { tools: { deploy: { action: "approve", approval: { timeout: "1m" }, limits: [{ counter: "d", window: "hour", max: 1 }] } } }));
    const evaluation = evaluateCall(held, call("deploy"), 0);
    expect((await admitCall(evaluation, admitter, 0)).decision.decision).toBe("approval_required");
    expect(calls).toHaveLength(0);
    const approved = { ...evaluation.decision, decision: "allow" as const, reason: "approved" };
    expect(await admitRateLimits(evaluation.rateLimits, admitter, 5, approved)).toMatchObject({ decision: "rate_limited", retryAfterSeconds: 3 });
    expect(calls).toHaveLength(1);
  });

  it("counts audit-only budgets separately and shares a budget an audit policy has in common with an enforcing one", async () => {
    const logs = new Map<string, number[]>();
    const limiter: RateLimitStore = { admit: async (requests, nowMs) => admitInLogs(logs, requests, nowMs) };
    const mixed = table(
      policy("enforce", { default: "allow", tools: { t: { limits: [{ counter: "shared", window: "minute", max: 2 }] } } }),
      policy("watch", {
        mode: "audit",
        default: "allow",
        tools: { t: { limits: [{ counter: "shared", window: "minute", max: 2 }, { counter: "audit_only", window: "minute", max: 1 }] } },
      }),
    );
    const results = [];
    for (let index = 0; index < 3; index++) results.push(await admitCall(evaluateCall(mixed, call("t"), index), limiter, index));
    expect(results.map((result) => [result.decision.decision, result.audit[0]?.decision])).toEqual([
      ["allow", "allow"],
      ["allow", "rate_limited"], // audit_only (max 1) is full; enforcement is unaffected
      ["rate_limited", "rate_limited"], // the shared budget refused both
    ]);
    expect(results[1]?.audit[0]).toMatchObject({ policy: "agents/watch", rule: 'tools["t"].limits[1]' });
    expect(results[2]?.audit[0]).toMatchObject({ policy: "agents/watch", rule: 'tools["t"].limits[0]' });
  });
});
