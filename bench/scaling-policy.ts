// Scaling: evaluateCall at 50, 1,000 and 10,000 tool rules, with exact names and with
// three kinds of globs, through the policy's indexes and (side by side, same tables) by
// trying every hide entry and glob in order, as matchRule did before GlobIndex.
//
// A policy holds at most 256 tool rules (compile-policy.ts), so N rules are ⌈N / 250⌉
// policies selecting one pod, compiled together (compilePolicies). Every policy is
// `default: allow`, so no policy's deny ends the evaluation early: each call consults
// every policy, the worst case.

import type { CompiledPolicy, DecisionTable } from "../policy/decision-table.ts";
import { matchesGlob, type CompiledGlob } from "../policy/glob.ts";
import type { GlobIndex } from "../policy/glob-index.ts";
import { compilePolicies, evaluateCall, type McpPolicy, type ToolCall, type ToolRuleSpec } from "../policy/index.ts";
import { printTable, quantile, ratio, round } from "./text-table.ts";

const RULES_PER_POLICY = 250;
const RULE_COUNTS = [50, 1_000, 10_000];

/** How rule j of policy p is written, and a tool name it (and only it) governs. */
interface Layout {
  readonly name: string;
  readonly rule: (policy: number, index: number) => string;
  readonly matching: (policy: number, index: number) => string;
}

export const LAYOUTS: readonly Layout[] = [
  { name: "exact names", rule: (p, i) => `p${p}_tool_${i}`, matching: (p, i) => `p${p}_tool_${i}` },
  { name: "globs, own literal prefix (p3_group_7_*)", rule: (p, i) => `p${p}_group_${i}_*`, matching: (p, i) => `p${p}_group_${i}_run` },
  { name: "globs, one shared prefix (svc_*_op3x7)", rule: (p, i) => `svc_*_op${p}x${i}`, matching: (p, i) => `svc_any_op${p}x${i}` },
  { name: "globs, no literal end (*_op3x7_*)", rule: (p, i) => `*_op${p}x${i}_*`, matching: (p, i) => `any_op${p}x${i}_run` },
];

/** `rules` rules of one layout, RULES_PER_POLICY to a policy (fewer in the last). */
export function scalingPolicies(layout: Layout, rules: number): McpPolicy[] {
  const policies: McpPolicy[] = [];
  for (let first = 0, p = 0; first < rules; first += RULES_PER_POLICY, p++) {
    const tools: Record<string, ToolRuleSpec> = {};
    for (let i = 0; i < Math.min(RULES_PER_POLICY, rules - first); i++) tools[layout.rule(p, i)] = {};
    policies.push({
      apiVersion: "mcpwarden.dev/v1alpha1",
      kind: "McpPolicy",
      metadata: { name: `scale-${String(p).padStart(3, "0")}`, namespace: "agents" },
      spec: { default: "allow", hide: ["debug_*", "internal_?"], tools },
    });
  }
  return policies;
}

export function compileTable(policies: readonly McpPolicy[]): DecisionTable {
  const result = compilePolicies(policies);
  if (!result.ok) throw new Error(JSON.stringify(result.problems.slice(0, 3)));
  return result.table;
}

/** The same table, its indexes replaced by trying each glob in order (matchRule before GlobIndex). */
export function scanningTable(table: DecisionTable): DecisionTable {
  const scan = (policy: CompiledPolicy): CompiledPolicy => ({
    ...policy,
    hideIndex: scanningIndex(policy.hide.map((entry) => entry.glob)),
    globIndex: scanningIndex(policy.globs.map((entry) => entry.glob)),
  });
  return { ...table, enforcing: table.enforcing.map(scan), audit: table.audit.map(scan) };
}

function scanningIndex(globs: readonly CompiledGlob[]): GlobIndex {
  return { firstMatch: (name: string) => globs.findIndex((glob) => matchesGlob(glob, name)) } as unknown as GlobIndex;
}

interface Timing {
  samples: number;
  p50Us: number;
  p99Us: number;
}

/** Per-call times of one call, as many samples as fit in about `budgetMs`. */
function timeCall(table: DecisionTable, call: ToolCall, budgetMs: number): Timing {
  let sink = 0;
  const warmupStart = performance.now();
  for (let i = 0; i < 2_000; i++) sink += evaluateCall(table, call, i).rateLimits.length;
  const perCallMs = (performance.now() - warmupStart) / 2_000;
  const count = Math.max(2_000, Math.min(100_000, Math.floor(budgetMs / perCallMs)));
  const nanos = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    sink += evaluateCall(table, call, i).rateLimits.length;
    nanos[i] = Number(process.hrtime.bigint() - start);
  }
  if (sink < 0) console.log(sink); // keeps the results alive
  return { samples: count, p50Us: round(quantile(nanos, 0.5) / 1000, 3), p99Us: round(quantile(nanos, 0.99) / 1000, 3) };
}

function call(tool: string): ToolCall {
  return { tool, arguments: {}, identity: { id: "agent-1" }, session: { id: "session-1" } };
}

interface PolicyScalingRow {
  layout: string;
  rules: number;
  policies: number;
  call: string;
  decision: string;
  indexed: Timing;
  scan: Timing;
}

export function runPolicyScaling(): { method: string; rows: PolicyScalingRow[] } {
  const rows: PolicyScalingRow[] = [];
  for (const layout of LAYOUTS) {
    for (const rules of RULE_COUNTS) {
      const policies = scalingPolicies(layout, rules);
      const table = compileTable(policies);
      const scanning = scanningTable(table);
      const last = policies.length - 1;
      const lastRule = Math.min(RULES_PER_POLICY, rules - last * RULES_PER_POLICY) - 1;
      for (const [label, tool] of [
        ["a rule of the last policy", layout.matching(last, lastRule)],
        ["no rule (default allow)", "unlisted_tool"],
      ] as const) {
        const evaluation = evaluateCall(table, call(tool), 0);
        if (evaluateCall(scanning, call(tool), 0).decision !== evaluation.decision) throw new Error(`${layout.name} ${rules}: the index and the scan disagree on ${tool}`);
        const indexed = timeCall(table, call(tool), 300);
        const scan = timeCall(scanning, call(tool), 300);
        rows.push({ layout: layout.name, rules, policies: policies.length, call: label, decision: `${evaluation.decision.decision} ${evaluation.decision.rule}`, indexed, scan });
      }
    }
  }
  printPolicyScaling(rows);
  return {
    method: `evaluateCall per call (process.hrtime.bigint around each); N rules = ⌈N/${RULES_PER_POLICY}⌉ policies (at most 256 tool rules each) selecting one pod, all default: allow, each with 2 hide globs, so every policy is consulted; "scan" = the same tables with every hide entry and glob tried in order (matchRule before its index)`,
    rows,
  };
}

function printPolicyScaling(rows: readonly PolicyScalingRow[]): void {
  const base = (row: PolicyScalingRow) => rows.find((other) => other.layout === row.layout && other.call === row.call && other.rules === RULE_COUNTS[0]);
  printTable(
    "scaling: evaluateCall by rule count (µs per call; ×50 = p50 against the 50-rule row)",
    ["rules as", "rules", "policies", "call", "index p50", "index p99", "×50", "scan p50", "scan p99", "×50", "scan/index"],
    rows.map((row) => [
      row.layout,
      row.rules.toLocaleString("en"),
      String(row.policies),
      row.call,
      row.indexed.p50Us.toFixed(2),
      row.indexed.p99Us.toFixed(2),
      ratio(row.indexed.p50Us, base(row)?.indexed.p50Us ?? Number.NaN),
      row.scan.p50Us.toFixed(2),
      row.scan.p99Us.toFixed(2),
      ratio(row.scan.p50Us, base(row)?.scan.p50Us ?? Number.NaN),
      ratio(row.scan.p50Us, row.indexed.p50Us),
    ]),
    [
      `A policy holds at most 256 tool rules: 1,000 rules are 4 policies, 10,000 are 40, compiled together for one pod; each is default: allow, so every call consults all of them.`,
      `Growth with the index follows the number of policies (each is decided: deny overrides, every policy's limits apply), not the number of rules in them.`,
      `Globs are found by their literal prefix or suffix, or (with neither, 8 or more of them) by a three-character piece of a literal run; globs without a run of three (*, *a*b*) are still tried one by one.`,
    ],
  );
}
