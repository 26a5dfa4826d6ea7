import { describe, expect, it } from "vitest";
import { compilePolicies } from "./compile-policies.ts";
import { MCP_POLICY_API_VERSION, MCP_POLICY_KIND, type IdentitySpec, type McpPolicy, type McpPolicyMetadata, type McpPolicySpec } from "./model.ts";
import { formatProblem } from "./problems.ts";
import { testCache } from "../test/support/policy-engines.ts";

function policy(name: string, spec: McpPolicySpec, metadata: Partial<McpPolicyMetadata> = {}): McpPolicy {
  return { apiVersion: MCP_POLICY_API_VERSION, kind: MCP_POLICY_KIND, metadata: { name, namespace: "agents", ...metadata }, spec };
}

const jwt: IdentitySpec = { source: "jwt", jwt: { issuer: "https://id.example", audiences: ["mcp", "tools"], jwksUri: "https://id.example/jwks" } };

describe("compilePolicies: counters", () => {
  it("rejects a counter reused with another window, naming both places", () => {
    const result = compilePolicies([
      policy("old", { tools: { a: { limits: [{ counter: "calls", window: "minute", max: 10 }] } } }, { creationTimestamp: "2026-01-01T00:00:00Z" }),
      policy("new", { tools: { b: { limits: [{ counter: "calls", window: "hour", max: 10 }] } } }, { creationTimestamp: "2026-02-01T00:00:00Z" }),
    ], testCache());
    expect(!result.ok && result.problems).toEqual([
      {
        policy: "agents/new",
        path: 'spec.tools["b"].limits[0]',
        message:
          'counter "calls" is already used at agents/old spec.tools["a"].limits[0] with window minute, max 10, scope grant; ' +
          "a counter is one budget, so every use needs the same window, max and scope",
      },
    ]);
  });

  it("rejects another max or scope too, and accepts the same budget spelt differently", () => {
    const reuse = (second: { window: string | number; max: number; scope?: "grant" | "session" | "global" }) =>
      compilePolicies([
        policy("a", { tools: { a: { limits: [{ counter: "c", window: "minute", max: 10 }] } } }),
        policy("b", { tools: { b: { limits: [{ counter: "c", ...second }] } } }),
      ], testCache()).ok;
    expect(reuse({ window: "minute", max: 11 })).toBe(false);
    expect(reuse({ window: "minute", max: 10, scope: "global" })).toBe(false);
    expect(reuse({ window: 60, max: 10, scope: "grant" })).toBe(true);
    expect(reuse({ window: "1m", max: 10 })).toBe(true);
  });

  it("rejects a policy given twice", () => {
    const result = compilePolicies([policy("p", {}), policy("p", {})], testCache());
    expect(!result.ok && result.problems.map(formatProblem)).toEqual(["metadata.name: agents/p is given more than once"]);
  });
});

describe("compilePolicies: identity", () => {
  it("uses source: none when no policy names an identity", () => {
    const result = compilePolicies([policy("p", {})], testCache());
    expect(result.ok && result.table.identity).toEqual({ source: "none" });
  });

  it("lets the older policy's identity win and reports the newer one as conflicting", () => {
    const result = compilePolicies([
      policy("a-new", { identity: { source: "header", header: "x-agent-id" } }, { creationTimestamp: "2026-03-01T00:00:00Z" }),
      policy("z-old", { identity: jwt }, { creationTimestamp: "2026-01-01T00:00:00Z" }),
      policy("silent", { default: "allow" }, { creationTimestamp: "2025-01-01T00:00:00Z" }),
    ], testCache());
    if (!result.ok) throw new Error("did not compile");
    expect(result.table.identity).toBe(jwt);
    expect(result.table.identityConflicts).toEqual([
      {
        policy: "agents/a-new",
        conflictsWith: "agents/z-old",
        message:
          "identity (source: header (x-agent-id)) disagrees with the older policy agents/z-old (source: jwt (issuer https://id.example, claim sub)); " +
          "this policy's rules apply to callers as agents/z-old identifies them",
      },
    ]);
    // Its rules still apply.
    expect(result.table.enforcing.map((compiled) => compiled.ref)).toEqual(["agents/a-new", "agents/silent", "agents/z-old"]);
  });

  it("orders policies without a creation time after those with one, then by namespace/name", () => {
    const result = compilePolicies([
      policy("b", { identity: { source: "session" } }),
      policy("a", { identity: { source: "none" } }),
      policy("c", { identity: { source: "header", header: "x-id" } }, { creationTimestamp: "2026-01-01T00:00:00Z" }),
    ], testCache());
    expect(result.ok && result.table.identity).toEqual({ source: "header", header: "x-id" });
    expect(result.ok && result.table.identityConflicts.map((conflict) => [conflict.policy, conflict.conflictsWith])).toEqual([
      ["agents/a", "agents/c"],
      ["agents/b", "agents/c"],
    ]);
  });

  it("treats identities that differ only in header case, audience order or an explicit default claim as equal", () => {
    const result = compilePolicies([
      policy("a", { identity: { source: "header", header: "X-Agent-Id" } }),
      policy("b", { identity: { source: "header", header: "x-agent-id" } }),
      policy("c", { identity: jwt }, { namespace: "other" }),
      policy("d", { identity: { ...jwt, jwt: { ...jwt.jwt!, audiences: ["tools", "mcp"], claim: "sub" } } }, { namespace: "other" }),
    ], testCache());
    expect(result.ok && result.table.identityConflicts.map((conflict) => conflict.policy)).toEqual(["other/c", "other/d"]);
  });
});

describe("compilePolicies: semantic checks on typed input", () => {
  it("reports problems of policies built in code, never throwing", () => {
    const result = compilePolicies([
      policy("p", {
        hide: ["a\ud800"],
        tools: {
          x: { limits: [{ counter: "", window: "fortnight", max: 1e9 }], when: "args.a.all(x, x.all(y, y.all(z, z)))" },
          y: { arguments: { type: "object", properties: { a: { type: "strin" } } } },
        },
      }),
    ], testCache());
    expect(!result.ok && result.problems.map(formatProblem)).toEqual([
      "spec.hide[0]: a tool name or glob must be well-formed Unicode (it has a lone surrogate)",
      'spec.tools["x"].limits[0].counter: "" is not a counter name (1 to 128 characters, no control characters)',
      'spec.tools["x"].limits[0].window: "fortnight" is not a window (use second|minute|hour|day, a duration like 90s, or seconds)',
      'spec.tools["x"].limits[0].max: 1000000000 is not a whole number from 1 to 100000',
      'spec.tools["x"].when: comprehensions (all, exists, exists_one, map, filter) may be nested at most one deep; this one is nested 2 deep',
      expect.stringMatching(/^spec\.tools\["y"\]\.arguments: does not compile: schema is invalid/),
    ]);
  });

  it("names the field of a condition over the static limits", () => {
    const long = `tool == '${"x".repeat(1020)}'`;
    const result = compilePolicies([policy("p", { tools: { "run_*": { when: long } }, hide: [] })], testCache());
    expect(!result.ok && result.problems.map(formatProblem)).toEqual([
      'spec.tools["run_*"].when: is 1030 characters long; at most 1024 are allowed',
    ]);
  });

  it("enforces the CRD's list sizes", () => {
    const tools: McpPolicySpec["tools"] = {};
    for (let index = 0; index < 257; index++) tools[`tool_${index}`] = {};
    const limits = Array.from({ length: 17 }, (_, index) => ({ counter: `c${index}`, window: "minute", max: 1 }));
    const result = compilePolicies([policy("p", { tools, allTools: { limits } })], testCache());
    expect(!result.ok && result.problems.map(formatProblem)).toEqual([
      "spec.allTools.limits: has 17 limits; at most 16 are allowed",
      "spec.tools: has 257 rules; at most 256 are allowed",
    ]);
  });
});
