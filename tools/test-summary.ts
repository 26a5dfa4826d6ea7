// Prints one line totalling vitest's JSON reports: "tests: N passed, N failed, N skipped".
// When the end-to-end suite was skipped on purpose (MCPWARDEN_E2E=skip) its tests count
// as skipped, and a line before the total says so.
import { readFileSync } from "node:fs";

interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  const report = JSON.parse(readFileSync(file, "utf8")) as VitestJsonReport;
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
}
if (process.env.MCPWARDEN_E2E === "skip") console.log("e2e: skipped (MCPWARDEN_E2E=skip): the end-to-end suite did not run; its tests count as skipped");
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
