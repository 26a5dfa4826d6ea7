import { describe, expect, it } from "vitest";
import { formatProblem } from "./problems.ts";
import { readPolicyLayer } from "./read-policy-layer.ts";

const options = { name: "mockloop", namespace: "agents" };

function problems(value: unknown): string[] {
  const result = readPolicyLayer(value, options);
  return result.ok ? [] : result.problems.map(formatProblem);
}

describe("readPolicyLayer", () => {
  it("reads seed 000's document into an McpPolicy", () => {
    const result = readPolicyLayer(
      {
        version: "1",
        default: "deny",
        tools: { run_test_iteration: { limits: [{ counter: "run_test_iteration_rate", window: "minute", max: 10, scope: "grant" }] } },
      },
      { ...options, selector: { matchLabels: { app: "mockloop" } } },
    );
    expect(result.ok && { ...result.policy, spec: { ...result.policy.spec, tools: { ...result.policy.spec.tools } } }).toEqual({
      apiVersion: "mcpwarden.dev/v1alpha1",
      kind: "McpPolicy",
      metadata: { name: "mockloop", namespace: "agents" },
      spec: {
        selector: { matchLabels: { app: "mockloop" } },
        default: "deny",
        tools: { run_test_iteration: { limits: [{ counter: "run_test_iteration_rate", window: "minute", max: 10, scope: "grant" }] } },
      },
    });
  });

  it("accepts a window in seconds, as PolicyLayer's docs write it", () => {
    expect(problems({ version: "1", tools: { x: { limits: [{ counter: "c", window: 60, max: 10 }] } } })).toEqual([]);
  });

  it("reports unknown keys and McpPolicy-only fields with PolicyLayer paths", () => {
    expect(
      problems({
        version: "2",
        default: "deny",
        hide: ["x"],
        extra: true,
        tools: {
          run: { rate_limit: { max: 10, window: 60 }, when: "true", limits: [{ counter: "c", window: "fortnight", max: 10, burst: 3 }] },
        },
      }),
    ).toEqual([
      "hide: unknown field (not a PolicyLayer field; write an McpPolicy to hide tools)",
      "extra: unknown field (allowed: version, default, tools)",
      'version: "2" is not a PolicyLayer version this reads (use "1")',
      'tools["run"].rate_limit: unknown field (rate limits are written limits: [{counter, window, max, scope}])',
      'tools["run"].when: unknown field (not a PolicyLayer field; write an McpPolicy to use conditions)',
      'tools["run"].limits[0].burst: unknown field (allowed: counter, window, max, scope)',
      'tools["run"].limits[0].window: "fortnight" is not a window (use second|minute|hour|day, a duration like 90s, or seconds)',
    ]);
    expect(problems({ version: "1", tools: { run: { limits: [{ counter: "c", window: "fortnight", max: 10 }] } } })).toEqual([
      'tools["run"].limits[0].window: "fortnight" is not a window (use second|minute|hour|day, a duration like 90s, or seconds)',
    ]);
  });

  it("gives an approve rule the default approval timeout an McpPolicy needs", () => {
    const result = readPolicyLayer({ version: "1", tools: { deploy: { action: "approve" } } }, options);
    expect(result.ok && result.policy.spec.tools?.["deploy"]).toEqual({ action: "approve", approval: { timeout: "10m" } });
  });
});
