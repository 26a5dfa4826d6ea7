import { describe, expect, it } from "vitest";
import { advertiseConstraints, rateLimitSentence } from "./advertise-constraints.ts";
import { compilePolicies } from "./compile-policies.ts";
import type { DecisionTable } from "./decision-table.ts";
import { MCP_POLICY_API_VERSION, MCP_POLICY_KIND, type McpPolicy, type McpPolicySpec } from "./model.ts";
import { formatProblem } from "./problems.ts";
import { testCache } from "../test/support/policy-engines.ts";

function table(...specs: [string, McpPolicySpec][]): DecisionTable {
  const policies: McpPolicy[] = specs.map(([name, spec]) => ({ apiVersion: MCP_POLICY_API_VERSION, kind: MCP_POLICY_KIND, metadata: { name, namespace: "agents" }, spec }));
  const result = compilePolicies(policies, testCache());
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
  return result.table;
}

const iterations = { type: "object", properties: { iterations: { type: "integer", maximum: 100 } } } as const;
const server = { name: "run_test_iteration", description: "Runs one test iteration.", inputSchema: { type: "object", properties: { iterations: { type: "number" }, suite: { type: "string" } } } };

describe("advertiseConstraints", () => {
  const advertising = table([
    "p",
    {
      advertiseConstraints: true,
      tools: {
        run_test_iteration: { arguments: iterations, limits: [{ counter: "runs", window: "minute", max: 10 }] },
        deploy: { action: "approve", approval: { timeout: "5m" } },
        list_runs: {},
      },
    },
  ]);

  it("joins the rule's arguments schema to the server's under allOf and appends a sentence per limit", () => {
    expect(advertiseConstraints(advertising, server)).toEqual({
      name: "run_test_iteration",
      description: "Runs one test iteration. At most 10 calls a minute.",
      inputSchema: { type: "object", allOf: [server.inputSchema, iterations] },
    });
  });

  it("says when calls wait for a person", () => {
    expect(advertiseConstraints(advertising, { name: "deploy", inputSchema: { type: "object" } })).toEqual({
      name: "deploy",
      description: "Calls wait for a person's approval.",
      inputSchema: { type: "object" },
    });
  });

  it("leaves a tool with nothing to say, and every tool of a policy that does not opt in, as the server listed it", () => {
    const plain = { name: "list_runs", description: "Lists.", inputSchema: { type: "object" } };
    expect(advertiseConstraints(advertising, plain)).toBe(plain);
    const silent = table(["p", { tools: { run_test_iteration: { arguments: iterations, limits: [{ counter: "runs", window: "minute", max: 10 }] } } }]);
    expect(advertiseConstraints(silent, server)).toBe(server);
  });

  it("adds every opting policy's constraints once; audit policies add nothing", () => {
    const two = table(
      ["a", { advertiseConstraints: true, allTools: { limits: [{ counter: "all", window: "90s", max: 1 }] }, default: "allow" }],
      ["b", { advertiseConstraints: true, tools: { run_test_iteration: { arguments: iterations } } }],
      ["c", { advertiseConstraints: true, mode: "audit", tools: { run_test_iteration: { limits: [{ counter: "x", window: "day", max: 5 }] } } }],
    );
    expect(advertiseConstraints(two, server)).toEqual({
      ...server,
      description: "Runs one test iteration. At most 1 call in any 90 seconds.",
      inputSchema: { type: "object", allOf: [server.inputSchema, iterations] },
    });
  });
});

describe("rateLimitSentence", () => {
  it.each([
    [10, 60_000, "At most 10 calls a minute."],
    [1, 1000, "At most 1 call a second."],
    [5, 3_600_000, "At most 5 calls an hour."],
    [100, 86_400_000, "At most 100 calls a day."],
    [3, 900_000, "At most 3 calls in any 15 minutes."],
    [3, 7_200_000, "At most 3 calls in any 2 hours."],
    [3, 1500, "At most 3 calls in any 1.5 seconds."],
  ])("%i per %i ms: %s", (max, windowMs, sentence) => {
    expect(rateLimitSentence(max, windowMs)).toBe(sentence);
  });
});
