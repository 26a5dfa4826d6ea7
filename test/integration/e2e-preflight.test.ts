// Where `make test` runs the end-to-end suite, decided first (test/e2e/preflight.ts): never
// silently left out. A machine that cannot host the node (here: not root) stops with one
// line saying why and how to run it elsewhere or skip it; MCPWARDEN_E2E=skip and
// MCPWARDEN_E2E_CONTEXT choose explicitly.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { repoRoot, run } from "../harness/index.ts";

const preflight = (): string => join(repoRoot(), "test", "e2e", "preflight.ts");
const env = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const { MCPWARDEN_E2E: _skip, MCPWARDEN_E2E_CONTEXT: _context, ...rest } = process.env;
  return { ...rest, ...extra };
};

describe("the end-to-end suite's preflight", () => {
  it("fails in one line, naming both ways out, where the machine cannot host the node", async () => {
    // As `nobody`: the local node needs root.
    const result = await run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, preflight()], { env: env({}) });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^e2e: this machine cannot host the local Kubernetes node .*needs root on Linux.*uid 65534/);
    expect(lines[0]).toContain("make e2e MCPWARDEN_E2E_CONTEXT=<kubeconfig context>");
    expect(lines[0]).toContain("MCPWARDEN_E2E=skip");
  });

  it("skips with MCPWARDEN_E2E=skip and uses the named context with MCPWARDEN_E2E_CONTEXT, as any user", async () => {
    const skip = await run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, preflight()], { env: env({ MCPWARDEN_E2E: "skip" }) });
    expect({ code: skip.code, out: skip.stdout.trim() }).toEqual({ code: 0, out: "skip" });
    const context = await run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, preflight()], { env: env({ MCPWARDEN_E2E_CONTEXT: "kind-e2e" }) });
    expect({ code: context.code, out: context.stdout.trim() }).toEqual({ code: 0, out: "context" });
  });

  it("prints the skip in the test summary, whose last line stays `tests: N passed, N failed, N skipped`", async () => {
    const summary = await run(process.execPath, [join(repoRoot(), "tools", "test-summary.ts")], { env: env({ MCPWARDEN_E2E: "skip" }) });
    expect(summary.stdout.trim().split("\n")).toEqual(["e2e: skipped (MCPWARDEN_E2E=skip): the end-to-end suite did not run; its tests count as skipped", "tests: 0 passed, 0 failed, 0 skipped"]);
  });
});
