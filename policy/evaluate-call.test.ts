import { describe, expect, it } from "vitest";
import { compilePolicies } from "./compile-policies.ts";
import type { DecisionTable } from "./decision-table.ts";
import type { ToolCall } from "./decision.ts";
import { evaluateCall } from "./evaluate-call.ts";
import { MCP_POLICY_API_VERSION, MCP_POLICY_KIND, type McpPolicy, type McpPolicyMetadata, type McpPolicySpec } from "./model.ts";
import { formatProblem } from "./problems.ts";
import { rateLimitKey } from "./ratelimit/types.ts";
import { testCache } from "../test/support/policy-engines.ts";

function policy(name: string, spec: McpPolicySpec, metadata: Partial<McpPolicyMetadata> = {}): McpPolicy {
  return { apiVersion: MCP_POLICY_API_VERSION, kind: MCP_POLICY_KIND, metadata: { name, namespace: "agents", ...metadata }, spec };
}

function table(...policies: McpPolicy[]): DecisionTable {
  const result = compilePolicies(policies, testCache());
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
  return result.table;
}

function call(tool: string, args?: unknown, grant = "alice", session = "s1"): ToolCall {
  return { tool, arguments: args, identity: { id: grant }, session: { id: session } };
}

const decide = (decisionTable: DecisionTable, tool: string, args?: unknown) => evaluateCall(decisionTable, call(tool, args), 0).decision;

describe("evaluateCall: decision kinds", () => {
  const kinds = table(
    policy("p", {
      default: "deny",
      hide: ["debug_*"],
      tools: {
        list_runs: {},
        delete_run: { action: "deny", reason: "deleting runs is done by people" },
        run_test: {
          arguments: { type: "object", properties: { iterations: { type: "integer", maximum: 5 } }, required: ["iterations"] },
          when: "args.iterations > 0.0",
          reason: "iterations must be positive",
        },
        deploy: { action: "approve", approval: { timeout: "10m" } },
      },
    }),
  );

  it("allow", () => {
    expect(decide(kinds, "list_runs")).toEqual({ decision: "allow", policy: "agents/p", rule: 'tools["list_runs"]', reason: "allowed" });
  });

  it("deny, with the rule's reason", () => {
    expect(decide(kinds, "delete_run")).toEqual({
      decision: "deny",
      policy: "agents/p",
      rule: 'tools["delete_run"]',
      reason: "deleting runs is done by people",
    });
  });

  it("default deny and hidden", () => {
    expect(decide(kinds, "something_else")).toEqual({
      decision: "deny",
      policy: "agents/p",
      rule: "default",
      reason: "this tool is not allowed (default: deny)",
    });
    expect(decide(kinds, "debug_dump")).toEqual({ decision: "deny", policy: "agents/p", rule: "hide[0]", reason: "this tool is hidden" });
  });

  it("invalid_arguments lists which argument failed and why (absent arguments are {})", () => {
    expect(decide(kinds, "run_test", { iterations: 9 })).toEqual({
      decision: "invalid_arguments",
      policy: "agents/p",
      rule: 'tools["run_test"]',
      reason: "invalid arguments: iterations: must be <= 5",
    });
    expect(decide(kinds, "run_test").reason).toBe("invalid arguments: iterations: is required");
  });

  it("a false condition denies with the rule's reason; an erroring one says why", () => {
    expect(decide(kinds, "run_test", { iterations: 0 })).toMatchObject({ decision: "deny", reason: "iterations must be positive" });
    expect(decide(kinds, "run_test", { iterations: 3 }).decision).toBe("allow");
    const erroring = table(policy("p", { tools: { t: { when: "args.n + 1 > 2" } } }));
    expect(decide(erroring, "t", { n: 1 })).toMatchObject({
      decision: "deny",
      rule: 'tools["t"]',
      reason: expect.stringMatching(/^condition not met \(condition could not be evaluated: .*\)$/),
    });
    const plain = table(policy("p", { tools: { t: { when: "args.env == 'staging'" } } }));
    expect(decide(plain, "t", { env: "prod" }).reason).toBe("condition not met: args.env == 'staging'");
  });

  it("approval_required, with the approval's expiry", () => {
    const evaluation = evaluateCall(kinds, call("deploy"), 1_000_000);
    expect(evaluation.decision).toEqual({
      decision: "approval_required",
      policy: "agents/p",
      rule: 'tools["deploy"]',
      reason: "this call needs approval",
    });
    expect(evaluation.approval).toEqual({ policy: "agents/p", rule: 'tools["deploy"]', timeoutMs: 600_000, expiresAtMs: 1_600_000 });
  });
});

describe("evaluateCall: precedence within a policy", () => {
  it("hide > exact > most specific glob > default", () => {
    const precedence = table(
      policy("p", {
        default: "allow",
        hide: ["secret_tool", "debug_*"],
        tools: {
          secret_tool: {},
          debug_exact: {},
          "run_*": { action: "deny" },
          run_test_iteration: {},
          "run_test_*": {},
          "*_iteration": { action: "deny" },
        },
      }),
    );
    expect(decide(precedence, "secret_tool").rule).toBe("hide[0]");
    expect(decide(precedence, "debug_exact").rule).toBe("hide[1]");
    expect(decide(precedence, "run_test_iteration").rule).toBe('tools["run_test_iteration"]');
    expect(decide(precedence, "run_test_other")).toMatchObject({ decision: "allow", rule: 'tools["run_test_*"]' });
    expect(decide(precedence, "run_other")).toMatchObject({ decision: "deny", rule: 'tools["run_*"]' });
    expect(decide(precedence, "x_iteration")).toMatchObject({ decision: "deny", rule: 'tools["*_iteration"]' });
    expect(decide(precedence, "anything")).toMatchObject({ decision: "allow", rule: "default", reason: "allowed (default: allow)" });
  });

  it("breaks glob ties by fewer stars, then code point order", () => {
    const ties = table(policy("p", { tools: { "a*b*": { action: "deny" }, "a*b": {}, "b?*": { action: "deny" }, "?a*": {} } }));
    expect(decide(ties, "axb").rule).toBe('tools["a*b"]'); // 2 literals each; one star beats two
    expect(decide(ties, "bax").rule).toBe('tools["?a*"]'); // same counts; "?" (63) sorts before "b" (98)
  });
});

describe("evaluateCall: several policies", () => {
  const allowAll = policy("a-allow", { default: "allow", tools: { shared: { limits: [{ counter: "shared", window: "minute", max: 5 }] } } });
  const denyDelete = policy("b-deny", {
    default: "allow",
    hide: ["internal_*"],
    tools: { delete: { action: "deny", reason: "no deletes" }, shared: { limits: [{ counter: "shared", window: "minute", max: 5 }] } },
  });

  it("deny overrides, named by the denying policy", () => {
    expect(decide(table(allowAll, denyDelete), "delete")).toEqual({ decision: "deny", policy: "agents/b-deny", rule: 'tools["delete"]', reason: "no deletes" });
    expect(decide(table(allowAll, denyDelete), "internal_x")).toMatchObject({ decision: "deny", policy: "agents/b-deny", rule: "hide[0]" });
  });

  it("names an allowed call after the first enforcing policy in namespace/name order, whatever the input order", () => {
    expect(decide(table(denyDelete, allowAll), "other")).toMatchObject({ decision: "allow", policy: "agents/a-allow", rule: "default" });
    const otherNamespace = policy("z", { default: "allow" }, { namespace: "aaa" });
    expect(decide(table(denyDelete, allowAll, otherNamespace), "other").policy).toBe("aaa/z");
  });

  it("applies every policy's limits, a shared counter once", () => {
    const limited = table(
      policy("a", { default: "allow", allTools: { limits: [{ counter: "all", window: "hour", max: 100, scope: "global" }] } }),
      policy("b", { default: "allow", tools: { t: { limits: [{ counter: "t", window: "minute", max: 5, scope: "session" }, { counter: "all", window: "hour", max: 100, scope: "global" }] } } }),
    );
    expect(evaluateCall(limited, call("t"), 0).rateLimits).toEqual([
      { key: rateLimitKey("agents", "all", "global", ""), counter: "all", windowMs: 3_600_000, max: 100, scope: "global", policy: "agents/a", rule: "allTools.limits[0]" },
      { key: rateLimitKey("agents", "t", "session", "s1"), counter: "t", windowMs: 60_000, max: 5, scope: "session", policy: "agents/b", rule: 'tools["t"].limits[0]' },
    ]);
  });

  it("builds keys per grant, session or globally", () => {
    const scoped = table(
      policy("p", {
        tools: {
          t: {
            limits: [
              { counter: "g", window: 60, max: 1 },
              { counter: "s", window: 60, max: 1, scope: "session" },
              { counter: "all", window: 60, max: 1, scope: "global" },
            ],
          },
        },
      }),
    );
    const keys = evaluateCall(scoped, call("t", {}, "bob", "session-9"), 0).rateLimits.map((request) => request.key);
    expect(keys).toEqual([
      rateLimitKey("agents", "g", "grant", "bob"),
      rateLimitKey("agents", "s", "session", "session-9"),
      rateLimitKey("agents", "all", "global", ""),
    ]);
  });

  it("asks no rate limit of a refused call", () => {
    const refused = table(allowAll, denyDelete, policy("c", { tools: { shared: { action: "deny" } } }));
    expect(evaluateCall(refused, call("shared"), 0)).toMatchObject({ decision: { decision: "deny", policy: "agents/c" }, rateLimits: [] });
  });

  it("ranks a deny above invalid_arguments, whichever policy comes first", () => {
    const both = table(
      policy("a", { tools: { t: { arguments: { type: "object", required: ["x"], properties: { x: { type: "string" } } } } } }),
      policy("b", { hide: ["t"] }),
    );
    expect(decide(both, "t", {})).toMatchObject({ decision: "deny", policy: "agents/b", rule: "hide[0]" });
    const onlyArguments = table(
      policy("a", { tools: { t: { arguments: { type: "object", required: ["x"], properties: { x: { type: "string" } } } } } }),
      policy("b", { tools: { t: { arguments: { type: "object", required: ["y"], properties: { y: { type: "string" } } } } } }),
    );
    expect(decide(onlyArguments, "t", {})).toMatchObject({ decision: "invalid_arguments", policy: "agents/a", reason: "invalid arguments: x: is required" });
  });

  it("needs approval if any policy asks, named by the first asking, with the shortest timeout; limits still listed", () => {
    const approvals = table(
      policy("a", { default: "allow", tools: { t: { limits: [{ counter: "t", window: "minute", max: 3 }] } } }),
      policy("b", { tools: { t: { action: "approve", approval: { timeout: "1h" } } } }),
      policy("c", { tools: { t: { action: "approve", approval: { timeout: "30s" }, reason: "c wants a look" } } }),
    );
    const evaluation = evaluateCall(approvals, call("t"), 0);
    expect(evaluation.decision).toMatchObject({ decision: "approval_required", policy: "agents/b", rule: 'tools["t"]' });
    expect(evaluation.approval).toMatchObject({ policy: "agents/b", timeoutMs: 30_000, expiresAtMs: 30_000 });
    expect(evaluation.rateLimits.map((request) => request.counter)).toEqual(["t"]);
  });
});

describe("evaluateCall: audit mode", () => {
  it("reports the would-be decision and never blocks", () => {
    const audited = table(
      policy("enforcer", { default: "allow" }),
      policy("dry-run", { mode: "audit", default: "deny", tools: { ok: { limits: [{ counter: "ok", window: "minute", max: 1 }] } } }),
    );
    const denied = evaluateCall(audited, call("risky"), 0);
    expect(denied.decision).toMatchObject({ decision: "allow", policy: "agents/enforcer" });
    expect(denied.audit).toEqual([
      { decision: { decision: "deny", policy: "agents/dry-run", rule: "default", reason: "this tool is not allowed (default: deny)" }, rateLimits: [] },
    ]);
    const allowed = evaluateCall(audited, call("ok"), 0);
    expect(allowed.rateLimits).toEqual([]);
    expect(allowed.audit[0]?.rateLimits.map((request) => request.counter)).toEqual(["ok"]);
  });

  it("allows everything when only audit policies apply", () => {
    const onlyAudit = table(policy("dry-run", { mode: "audit", default: "deny" }));
    expect(evaluateCall(onlyAudit, call("anything"), 0)).toMatchObject({
      decision: { decision: "allow", policy: "", rule: "", reason: "no enforcing policy applies" },
      audit: [{ decision: { decision: "deny", rule: "default" } }],
    });
  });
});

describe("evaluateCall: adversarial tool names and arguments", () => {
  const strict = table(
    policy("p", {
      default: "deny",
      tools: { list_runs: {}, "run_*": { action: "deny" }, "run_[safe]": {}, "a.b": {}, "back\\slash": {} },
    }),
  );

  it("matches names exactly: case variants and look-alikes fall to default deny", () => {
    expect(decide(strict, "list_runs").decision).toBe("allow");
    for (const variant of ["List_Runs", "LIST_RUNS", "list_runs ", " list_runs", "list_runѕ", "ｌist_runs", "list_runs\u0000", "list\u200b_runs"]) {
      expect(decide(strict, variant)).toMatchObject({ decision: "deny", rule: "default" });
    }
  });

  it("treats glob metacharacters in called names as plain characters", () => {
    expect(decide(strict, "run_*")).toMatchObject({ decision: "deny", rule: 'tools["run_*"]' }); // matched by the glob, not "exactly"
    expect(decide(strict, "run_[safe]")).toMatchObject({ decision: "allow", rule: 'tools["run_[safe]"]' });
    expect(decide(strict, "aXb").decision).toBe("deny");
    expect(decide(strict, "a.b").decision).toBe("allow");
    expect(decide(strict, "back\\slash").decision).toBe("allow");
    expect(decide(strict, "*").decision).toBe("deny");
    expect(decide(strict, "?").decision).toBe("deny");
  });

  it("refuses names too long to match and names that are not strings", () => {
    const open = table(policy("p", { default: "allow" }));
    expect(decide(open, "x".repeat(513))).toMatchObject({ decision: "deny", rule: "default", reason: expect.stringContaining("longer than 512") });
    expect(decide(open, "x".repeat(512)).decision).toBe("allow");
    expect(evaluateCall(open, { ...call("x"), tool: 42 as unknown as string }, 0).decision).toMatchObject({ decision: "deny" });
  });

  it("decides on huge and deeply nested arguments", () => {
    const checked = table(
      policy("p", {
        tools: {
          t: { arguments: { type: "object", properties: { items: { type: "array", maxItems: 1000 } } }, when: "args.items.all(i, i == 0.0)" },
        },
      }),
    );
    expect(decide(checked, "t", { items: new Array(100_000).fill(0) })).toMatchObject({ decision: "invalid_arguments" });
    expect(decide(checked, "t", { items: new Array(1000).fill(0) }).decision).toBe("allow");
    let deep: unknown = 0;
    for (let index = 0; index < 50_000; index++) deep = { items: [deep] };
    expect(["deny", "invalid_arguments"]).toContain(decide(checked, "t", deep).decision);
  });
});
