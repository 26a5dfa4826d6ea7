import { describe, expect, it } from "vitest";
import { agentFacingDecision, compilePolicies, evaluateCall, policiesFromText, TOOL_NOT_FOUND } from "./index.ts";
import { testCache } from "../test/support/policy-engines.ts";

function table(yaml: string) {
  const read = policiesFromText(yaml, { name: "t" }, testCache());
  if (!read.ok) throw new Error(JSON.stringify(read.problems));
  const compiled = compilePolicies(read.policies, testCache());
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  return compiled.table;
}

const policy = (name: string, spec: string): string => `apiVersion: mcpwarden.dev/v1alpha1\nkind: McpPolicy\nmetadata: { name: ${name}, namespace: agents }\nspec:\n${spec}\n---\n`;
const decide = (compiled: ReturnType<typeof table>, tool: string) => evaluateCall(compiled, { tool, identity: { id: "" }, session: { id: "" } }, 0).decision;

describe("agentFacingDecision", () => {
  it("under default: deny, a hidden tool gets exactly what an unnamed one gets", () => {
    const compiled = table(policy("p", '  default: deny\n  hide: ["debug_*"]'));
    const hidden = decide(compiled, "debug_dump");
    expect(hidden.rule).toBe("hide[0]");
    expect(agentFacingDecision(compiled, hidden)).toEqual(decide(compiled, "never_named"));
  });

  it("under default: allow, a hidden tool is neutrally not found", () => {
    const compiled = table(policy("p", '  default: allow\n  hide: ["secret"]'));
    expect(agentFacingDecision(compiled, decide(compiled, "secret"))).toBe(TOOL_NOT_FOUND);
  });

  it("with several policies, the first enforcing default deny answers, as for an unnamed tool", () => {
    const compiled = table(policy("a", '  default: allow\n  hide: ["secret"]') + policy("b", "  default: deny\n  tools: { secret: {} }"));
    expect(agentFacingDecision(compiled, decide(compiled, "secret"))).toEqual(decide(compiled, "never_named"));
  });

  it("leaves every other decision as it is", () => {
    const compiled = table(policy("p", "  default: deny\n  tools: { rm: { action: deny, reason: no } }"));
    const denied = decide(compiled, "rm");
    expect(agentFacingDecision(compiled, denied)).toBe(denied);
  });
});
