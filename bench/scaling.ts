// Scaling section of `make bench`: how cost grows — evaluateCall with 50 to 10,000 rules,
// the memory rate-limit store with 1k to 1M callers, tools/list filtering of 10,000
// tools, the operator with 10,000 McpPolicies. Each part prints a table; parts run one
// after another.
//
// Run alone: node bench/scaling.ts [part...]   (parts: policy, memory-store, tools-list, operator)
//   MCPWARDEN_BENCH_POLICIES=1000,10000   the operator part's McpPolicy counts

import { pathToFileURL } from "node:url";
import { runMemoryStoreScaling } from "./scaling-memory-store.ts";
import { runOperatorScaling } from "./scaling-operator.ts";
import { runPolicyScaling } from "./scaling-policy.ts";
import { runToolsListScaling } from "./scaling-tools-list.ts";

const PARTS: Record<string, () => Promise<object>> = {
  policy: async () => runPolicyScaling(),
  "memory-store": runMemoryStoreScaling,
  "tools-list": async () => runToolsListScaling(),
  operator: () => runOperatorScaling(policyCounts(process.env["MCPWARDEN_BENCH_POLICIES"])),
};

function policyCounts(text: string | undefined): number[] | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const counts = text.split(",").map(Number);
  if (counts.some((count) => !Number.isInteger(count) || count < 1)) throw new Error(`MCPWARDEN_BENCH_POLICIES: ${text} is not a list of counts`);
  return counts;
}

/** Every part (or those named); a part that fails is reported in its place and the others still run. */
export async function runScalingBench(parts: readonly string[] = []): Promise<Record<string, unknown>> {
  const unknown = parts.filter((part) => !(part in PARTS));
  if (unknown.length > 0) throw new Error(`unknown scaling part ${unknown.join(", ")}; parts: ${Object.keys(PARTS).join(", ")}`);
  const results: Record<string, unknown> = {};
  const failures: string[] = [];
  for (const [name, run] of Object.entries(PARTS)) {
    if (parts.length > 0 && !parts.includes(name)) continue;
    try {
      results[name] = await run();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push(`${name}: ${message}`);
      results[name] = { failed: message };
      console.error(`[bench] scaling ${name} failed: ${message}`);
    }
  }
  if (failures.length > 0) throw Object.assign(new Error(failures.join("; ")), { results });
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await runScalingBench(process.argv.slice(2)), null, 2));
  process.exit(0);
}
