// Policy benchmark (not a test): median and p99 of evaluateCall for a 50-rule policy with
// globs, without and with a JSON Schema and a CEL condition on the matched rule. Goals:
// ≤ 2 µs without schema, ≤ 10 µs with. Each sample times one call with
// process.hrtime.bigint (its own cost, reported as `timerNs`, is included).
//
//   node bench/policy.ts          (or import { runPolicyBench } from "./policy.ts")

import { pathToFileURL } from "node:url";
import { allPolicyEngines } from "../policy/all-engines.ts";
import { CompileCache, compilePolicies, evaluateCall, type DecisionTable, type McpPolicy, type ToolCall, type ToolRuleSpec } from "../policy/index.ts";

const WARMUP = 20_000;
const SAMPLES = 200_000;

interface Figure {
  scenario: string;
  medianNs: number;
  p99Ns: number;
}

function fiftyRulePolicy(withChecks: boolean): McpPolicy {
  const tools: Record<string, ToolRuleSpec> = {};
  for (let index = 0; index < 30; index++) tools[`tool_${index}`] = { action: index % 5 === 0 ? "deny" : "allow" };
  for (let index = 0; index < 20; index++) tools[`group_${index}_*`] = index % 4 === 0 ? { action: "deny" } : {};
  const checked: ToolRuleSpec = {
    limits: [{ counter: "run_rate", window: "minute", max: 10 }],
    ...(withChecks
      ? {
          arguments: {
            type: "object",
            properties: { target: { type: "string", maxLength: 64 }, iterations: { type: "integer", minimum: 1, maximum: 5 } },
            required: ["target"],
            additionalProperties: false,
          },
          when: "args.target.startsWith('staging-') && args.iterations <= 3.0",
        }
      : {}),
  };
  tools["run_test_*"] = checked; // a glob: the matched rule is found by scanning globs
  tools["run_test_iteration"] = checked; // the same rule by exact name
  return {
    apiVersion: "mcpwarden.dev/v1alpha1",
    kind: "McpPolicy",
    metadata: { name: "bench", namespace: "agents" },
    spec: { default: "deny", hide: ["debug_*", "internal_?"], allTools: { limits: [{ counter: "all", window: "hour", max: 1000 }] }, tools },
  };
}

function compile(policy: McpPolicy): DecisionTable {
  const result = compilePolicies([policy], new CompileCache(allPolicyEngines()));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.table;
}

function call(tool: string): ToolCall {
  return { tool, arguments: { target: "staging-7", iterations: 2 }, identity: { id: "agent-42" }, session: { id: "session-1" } };
}

function measure(scenario: string, table: DecisionTable, input: ToolCall, expected: string): Figure {
  const first = evaluateCall(table, input, 0).decision.decision;
  if (first !== expected) throw new Error(`${scenario}: expected ${expected}, got ${first}`);
  let sink = 0;
  for (let index = 0; index < WARMUP; index++) sink += evaluateCall(table, input, index).rateLimits.length;
  const samples = new Float64Array(SAMPLES);
  for (let index = 0; index < SAMPLES; index++) {
    const start = process.hrtime.bigint();
    sink += evaluateCall(table, input, index).rateLimits.length;
    samples[index] = Number(process.hrtime.bigint() - start);
  }
  if (sink < 0) console.log(sink); // keeps the results alive
  samples.sort();
  return { scenario, medianNs: samples[Math.floor(SAMPLES / 2)] as number, p99Ns: samples[Math.floor(SAMPLES * 0.99)] as number };
}

function timerOverheadNs(): number {
  const samples = new Float64Array(100_000);
  for (let index = 0; index < samples.length; index++) {
    const start = process.hrtime.bigint();
    samples[index] = Number(process.hrtime.bigint() - start);
  }
  samples.sort();
  return samples[samples.length / 2] as number;
}

export async function runPolicyBench(): Promise<object> {
  const plain = compile(fiftyRulePolicy(false));
  const checked = compile(fiftyRulePolicy(true));
  const withoutSchema = [
    measure("exact name, allow + 2 rate-limit requests", plain, call("run_test_iteration"), "allow"),
    measure("glob, allow + 2 rate-limit requests", plain, call("run_test_other"), "allow"),
    measure("no rule matches, default deny", plain, call("unknown_tool"), "deny"),
    measure("hidden", plain, call("debug_dump"), "deny"),
  ];
  const withSchema = [
    measure("exact name, schema + CEL, allow", checked, call("run_test_iteration"), "allow"),
    measure("glob, schema + CEL, allow", checked, call("run_test_other"), "allow"),
    measure("exact name, schema fails", checked, { ...call("run_test_iteration"), arguments: { iterations: 9 } }, "invalid_arguments"),
    measure("exact name, CEL false", checked, { ...call("run_test_iteration"), arguments: { target: "prod-1", iterations: 1 } }, "deny"),
  ];
  const result = {
    benchmark: "policy.evaluateCall",
    rules: 52,
    samples: SAMPLES,
    timerNs: timerOverheadNs(),
    goals: { withoutSchemaNs: 2000, withSchemaNs: 10_000 },
    withoutSchema,
    withSchema,
  };
  const row = (figure: Figure) => `  ${figure.scenario.padEnd(46)} median ${(figure.medianNs / 1000).toFixed(2).padStart(6)} µs   p99 ${(figure.p99Ns / 1000).toFixed(2).padStart(6)} µs`;
  console.log(`policy: evaluateCall, 52-rule policy with globs (${SAMPLES} samples each, timer ${result.timerNs} ns)`);
  console.log(" without schema/CEL (goal ≤ 2 µs):");
  for (const figure of withoutSchema) console.log(row(figure));
  console.log(" with JSON Schema + CEL (goal ≤ 10 µs):");
  for (const figure of withSchema) console.log(row(figure));
  return result;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await runPolicyBench();
