import { describe, expect, it } from "vitest";
import { CompileCache } from "./compile-cache.ts";
import { compilePolicies, policyEngineNeeds, readMcpPolicy, type McpPolicy } from "./index.ts";
import { testCache } from "../test/support/policy-engines.ts";

const policy = (spec: McpPolicy["spec"]): McpPolicy => ({ apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpPolicy", metadata: { name: "p", namespace: "agents" }, spec });

describe("policyEngineNeeds", () => {
  it("finds when conditions, arguments schemas and server-schema validation anywhere", () => {
    expect(policyEngineNeeds([policy({ tools: { a: {} } })])).toEqual({ conditions: false, schemas: false });
    expect(policyEngineNeeds([policy({ tools: { a: { when: "true" } } })])).toEqual({ conditions: true, schemas: false });
    expect(policyEngineNeeds([policy({ tools: { a: { arguments: { type: "object" } } } })])).toEqual({ conditions: false, schemas: true });
    expect(policyEngineNeeds([policy({ validateServerSchema: true })])).toEqual({ conditions: false, schemas: true });
    expect(policyEngineNeeds([policy({ validateServerSchema: false })])).toEqual({ conditions: false, schemas: false });
    // A bundle nests policies under table.policies.
    expect(policyEngineNeeds([{ revision: "r", table: { policies: [policy({ tools: { a: { when: "true", arguments: {} } } })] } }])).toEqual({ conditions: true, schemas: true });
    expect(policyEngineNeeds(["text", 3, null, [[{ when: "x" }]]])).toEqual({ conditions: true, schemas: false });
  });
});

describe("compiling without the engine a policy needs", () => {
  it("fails closed with a problem naming the missing engine, never a rule without its check", () => {
    const withCondition = policy({ tools: { a: { when: "args.x > 1" } } });
    const withSchema = policy({ tools: { a: { arguments: { type: "object" } } } });
    const bare = new CompileCache();
    expect(compilePolicies([withCondition], bare)).toMatchObject({ ok: false, problems: [{ path: 'spec.tools["a"].when', message: expect.stringContaining("the CEL engine is not loaded") }] });
    expect(compilePolicies([withSchema], new CompileCache())).toMatchObject({ ok: false, problems: [{ message: expect.stringContaining("the JSON Schema engine is not loaded") }] });
    // With the engines the same policies compile.
    expect(readMcpPolicy(withCondition, testCache()).ok).toBe(true);
    expect(compilePolicies([withSchema], testCache()).ok).toBe(true);
    // A policy that needs neither compiles without any.
    expect(compilePolicies([policy({ tools: { a: {} } })], new CompileCache()).ok).toBe(true);
  });
});
