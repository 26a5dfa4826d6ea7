import { describe, expect, it } from "vitest";
import { createPolicyBundle, readPolicyBundle } from "./bundle.ts";
import { compilePolicies } from "./compile-policies.ts";
import { evaluateCall } from "./evaluate-call.ts";
import { MCP_POLICY_API_VERSION, MCP_POLICY_KIND, type McpPolicy } from "./model.ts";
import { TEST_ENGINES, testCache } from "../test/support/policy-engines.ts";

const policies: McpPolicy[] = [
  {
    apiVersion: MCP_POLICY_API_VERSION,
    kind: MCP_POLICY_KIND,
    metadata: { name: "mockloop", namespace: "agents", generation: 3 },
    spec: {
      selector: { matchLabels: { app: "mockloop" } },
      identity: { source: "header", header: "x-agent-id" },
      tools: {
        run_test_iteration: {
          limits: [{ counter: "run_test_iteration_rate", window: "minute", max: 10 }],
          arguments: { type: "object", properties: { iterations: { type: "integer", maximum: 5 } } },
          when: "args.iterations > 0.0",
        },
      },
    },
  },
];

describe("policy bundles", () => {
  it("survive JSON and compile to a table that decides the same", () => {
    const compiled = compilePolicies(policies, testCache());
    if (!compiled.ok) throw new Error("did not compile");
    const bundle = createPolicyBundle("rev-7", compiled.table);
    expect(bundle.policies).toEqual([{ namespace: "agents", name: "mockloop", generation: 3 }]);
    const received = readPolicyBundle(JSON.parse(JSON.stringify(bundle)), TEST_ENGINES);
    if (!received.ok) throw new Error(JSON.stringify(received.problems));
    expect(received.bundle.revision).toBe("rev-7");
    expect(received.table.identity).toEqual({ source: "header", header: "x-agent-id" });
    for (const args of [{ iterations: 3 }, { iterations: 9 }, { iterations: 0 }]) {
      const call = { tool: "run_test_iteration", arguments: args, identity: { id: "a" }, session: { id: "s" } };
      expect(evaluateCall(received.table, call, 0)).toEqual(evaluateCall(compiled.table, call, 0));
    }
  });

  it("are refused when malformed or tampered with, with paths", () => {
    expect(readPolicyBundle("x", TEST_ENGINES)).toMatchObject({ ok: false });
    const compiled = compilePolicies(policies, testCache());
    if (!compiled.ok) throw new Error("did not compile");
    const bundle = JSON.parse(JSON.stringify(createPolicyBundle("r", compiled.table))) as { table: { policies: { spec: { mode?: string } }[] }; policies: unknown[] };
    bundle.table.policies[0]!.spec.mode = "loud";
    expect(readPolicyBundle(bundle, TEST_ENGINES)).toEqual({
      ok: false,
      problems: [{ policy: "agents/mockloop", path: "table.policies[0].spec.mode", message: '"loud" is not one of enforce | audit' }],
    });
    bundle.table.policies[0]!.spec.mode = "audit";
    bundle.policies = [];
    expect(readPolicyBundle(bundle, TEST_ENGINES)).toMatchObject({ ok: false, problems: [{ path: "policies" }] });
  });
});
