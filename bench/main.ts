// `make bench`: every benchmark section, one after another (they would disturb each other
// in parallel on 2 cores), and the figures in bench/results/latest.json. A benchmark, not
// a test: it measures and reports, and fails only when a section cannot run.
//
// Run: node dist/bench/main.js [section...]   (sections: startup, policy, ratelimit, definitions, sidecar, propagation, scaling, cluster)

import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runClusterBench } from "./cluster.ts";
import { runPolicyBench } from "./policy.ts";
import { runPropagationBench } from "./propagation.ts";
import { runRateLimitBench } from "./ratelimit.ts";
import { runScalingBench } from "./scaling.ts";
import { runSidecarBench } from "./sidecar.ts";
import { runStartupBench } from "./startup.ts";
import { runToolDefinitionsBench } from "./tool-definitions.ts";

const SECTIONS: Record<string, () => Promise<object>> = {
  policy: runPolicyBench,
  ratelimit: runRateLimitBench,
  definitions: runToolDefinitionsBench,
  startup: runStartupBench,
  sidecar: () => runSidecarBench(),
  propagation: async () => runPropagationBench(),
  scaling: () => runScalingBench(),
  cluster: runClusterBench,
};

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(name in SECTIONS));
if (unknown.length > 0) {
  console.error(`bench: unknown section ${unknown.join(", ")}; sections: ${Object.keys(SECTIONS).join(", ")}`);
  process.exit(2);
}

const results: Record<string, unknown> = {
  machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "", memoryGb: Math.round(totalmem() / 2 ** 30) },
  startedAt: new Date().toISOString(),
};
let failed = false;
for (const [name, run] of Object.entries(SECTIONS)) {
  if (asked.length > 0 && !asked.includes(name)) continue;
  try {
    results[name] = await run();
  } catch (error) {
    failed = true;
    // A section that ran in parts (scaling) keeps the parts that did run.
    const partial = (error as { results?: unknown }).results;
    results[name] = partial ?? { failed: error instanceof Error ? error.message : String(error) };
    console.error(`[bench] ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

// bench/results/ in the checkout, from source or from dist/bench/.
const here = fileURLToPath(new URL(".", import.meta.url));
const resultsDir = here.includes("/dist/bench/") ? fileURLToPath(new URL("../../bench/results", import.meta.url)) : fileURLToPath(new URL("./results", import.meta.url));
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
console.log(`[bench] results written to bench/results/latest.json`);
process.exit(failed ? 1 : 0);
