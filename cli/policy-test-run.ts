// `mcp-warden policy test`: replays the calls against the policies with their own clock
// and memory store, compares each decision with the call's `expect`, and reports as
// `opa test` does — a diff per mismatch, `N passed, N failed`, exit 1 on any failure;
// `--coverage` lists the rules no call reached; `-o json` is one document for CI. A calls
// file without expectations prints one decision per line, as it always did.
import { MemoryRateLimitStore } from "../sidecar/ratelimit/memory-store.ts";
import { admitCall, evaluateCall, matchedRules, policyRules, type Decision, type DecisionTable, type RuleRef } from "../policy/index.ts";
import { SlidingWindowLimiter } from "../policy/ratelimit/sliding-window.ts";
import type { Expectation, TestCall } from "./policy-test-calls.ts";

export const TEST_OUTPUT_FORMATS = ["text", "json"] as const;
export type TestOutputFormat = (typeof TEST_OUTPUT_FORMATS)[number];

export interface PolicyTestOptions {
  output: TestOutputFormat;
  coverage: boolean;
}

interface Mismatch {
  field: keyof Expectation;
  expected: unknown;
  actual: unknown;
}

interface CallResult {
  line: number;
  tool: string;
  identity: string;
  at: string;
  decision: Record<string, unknown>;
  expect?: Expectation;
  mismatches?: Mismatch[];
}

interface Coverage {
  rules: number;
  exercised: number;
  notExercised: RuleRef[];
}

/** Runs the calls; returns the exit code (1 when an expectation failed). */
export async function runPolicyTest(table: DecisionTable, calls: readonly TestCall[], callsFile: string, options: PolicyTestOptions, stdout: (line: string) => void): Promise<number> {
  const limiter = new SlidingWindowLimiter(new MemoryRateLimitStore());
  const exercised = new Set<string>();
  const results: CallResult[] = [];
  for (const { line, call, atMs, expect } of calls) {
    const admitted = await admitCall(evaluateCall(table, call, atMs), limiter, atMs);
    const decision = decisionLine(admitted.decision);
    // Audit policies, and pins in toolDefinitions mode audit, report without refusing.
    if (table.audit.length > 0 || admitted.audit.length > 0) decision["audit"] = admitted.audit.map(decisionLine);
    if (options.coverage) for (const rule of matchedRules(table, call.tool)) exercised.add(ruleKey(rule));
    const result: CallResult = { line, tool: call.tool, identity: call.identity.id, at: new Date(atMs).toISOString(), decision };
    if (expect !== undefined) {
      result.expect = expect;
      result.mismatches = (Object.keys(expect) as (keyof Expectation)[])
        .filter((field) => decision[field] !== expect[field])
        .map((field) => ({ field, expected: expect[field], actual: decision[field] }));
    }
    results.push(result);
  }

  const checked = results.filter((result) => result.mismatches !== undefined);
  const failed = checked.filter((result) => (result.mismatches as Mismatch[]).length > 0);
  const coverage = options.coverage ? coverageOf(table, exercised) : undefined;

  if (options.output === "json") {
    stdout(JSON.stringify({ passed: checked.length - failed.length, failed: failed.length, results, ...(coverage === undefined ? {} : { coverage }) }, null, 2));
  } else {
    if (checked.length === 0) for (const result of results) stdout(JSON.stringify(result.decision));
    for (const result of failed) for (const text of mismatchText(result, callsFile)) stdout(text);
    if (checked.length > 0) stdout(`${checked.length - failed.length} passed, ${failed.length} failed`);
    if (coverage !== undefined) for (const text of coverageText(coverage)) stdout(text);
  }
  return failed.length > 0 ? 1 : 0;
}

function decisionLine(decision: Decision): Record<string, unknown> {
  const line: Record<string, unknown> = {
    decision: decision.decision,
    policy: decision.policy,
    rule: decision.rule,
    reason: decision.reason,
  };
  if (decision.retryAfterSeconds !== undefined) line["retryAfterSeconds"] = decision.retryAfterSeconds;
  return line;
}

const ruleKey = (rule: RuleRef): string => `${rule.policy}\u0000${rule.rule}`;

function coverageOf(table: DecisionTable, exercised: ReadonlySet<string>): Coverage {
  const rules = policyRules(table);
  const notExercised = rules.filter((rule) => !exercised.has(ruleKey(rule)));
  return { rules: rules.length, exercised: rules.length - notExercised.length, notExercised };
}

/** A diff of the expected fields: `-` what the line expects, `+` what the call got. */
function mismatchText(result: CallResult, callsFile: string): string[] {
  const lines = [`FAIL ${callsFile}:${result.line}: ${result.tool}${result.identity === "" ? "" : ` by ${result.identity}`} at ${result.at}`];
  for (const field of Object.keys(result.expect as Expectation) as (keyof Expectation)[]) {
    const mismatch = result.mismatches?.find((candidate) => candidate.field === field);
    if (mismatch === undefined) lines.push(`    ${field}: ${JSON.stringify(result.decision[field])}`);
    else lines.push(`  - ${field}: ${JSON.stringify(mismatch.expected)}`, `  + ${field}: ${mismatch.actual === undefined ? "(none)" : JSON.stringify(mismatch.actual)}`);
  }
  lines.push(`    got: ${JSON.stringify(result.decision)}`);
  return lines;
}

function coverageText(coverage: Coverage): string[] {
  const lines = [`coverage: ${coverage.exercised} of ${coverage.rules} rules exercised`];
  for (const rule of coverage.notExercised) lines.push(`  not exercised: ${rule.policy} ${rule.rule}`);
  return lines;
}
