// The README's commands run as printed (DEVELOPERS.md, "README shell blocks"): every
// fenced block says what it is; every shell block parses and has no comment after a
// line-continuation backslash (which ends the command there when pasted); the blocks of
// "Install the CLI and run it standalone" and "Unit-test your policies" run, in order, in
// one shell, from the checkout, with a fresh HOME.
import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { repoRoot, run } from "../harness/index.ts";
import { portInUse } from "../harness/free-port.ts";
import { readmeBlocks, shellBlocksUnder } from "../support/readme-blocks.ts";

const KNOWN_INFO = ["sh", "sh template", "console", "text", "yaml", "json"];
/** A backslash followed by blanks (and maybe a comment): the line does not continue. */
const BROKEN_CONTINUATION = /\\[ \t]+(\S.*)?$/;
const blocks = readmeBlocks();
const shellBlocks = blocks.filter((block) => block.info === "sh" || block.info === "sh template");

describe("README.md", () => {
  it("marks every fenced block: sh (runs as printed), sh template (needs your own things), or an output/data block", () => {
    const unmarked = blocks.filter((block) => !KNOWN_INFO.includes(block.info)).map((block) => `README.md:${block.line}: \`\`\`${block.info}`);
    expect(unmarked).toEqual([]);
    expect(shellBlocks.length).toBeGreaterThan(10);
  });

  it.each(shellBlocks.map((block) => [`README.md:${block.line} (${block.info})`, block] as const))("%s parses, with no comment after a continuation backslash", async (_where, block) => {
    const parsed = await run("bash", ["-n", "-c", block.text]);
    expect(parsed.stderr).toBe("");
    expect(parsed.code).toBe(0);
    const continuedComments = block.text.split("\n").filter((line) => BROKEN_CONTINUATION.test(line));
    expect(continuedComments).toEqual([]);
  });

  it("the continuation check catches a comment pasted after a backslash (the old sidecar example)", async () => {
    const pasted = 'mcp-warden sidecar --listen 127.0.0.1:9000 \\\n  --upstream http://127.0.0.1:8080/mcp \\            # or: --upstream-command "npx -y x"\n  --policy policies/';
    expect((await run("bash", ["-n", "-c", pasted])).code).toBe(0); // it parses, and fails only when run
    expect(pasted.split("\n").filter((line) => BROKEN_CONTINUATION.test(line))).toHaveLength(1);
  });

  it("runs the standalone section and the policy tests as printed: install the package, start the sidecar, test a policy", async () => {
    for (const port of [9000, 9464]) expect(await portInUse(port), `port ${port} is taken: is a demo or sidecar running?`).toBe(false);
    const steps = [...shellBlocksUnder("Install the CLI and run it standalone"), ...shellBlocksUnder("Unit-test your policies")];
    expect(steps.map((step) => step.text).join("\n")).toContain("mcp-warden sidecar");
    const home = mkdtempSync(join(tmpdir(), "mcpwarden-readme-home-"));
    try {
      // A sidecar left in the background by a failing step is stopped with the shell.
      const script = ["trap 'kill $(jobs -p) 2>/dev/null || true' EXIT", ...steps.map((step) => step.text)].join("\n");
      const result = await run("bash", ["-euo", "pipefail", "-c", script], {
        cwd: repoRoot(),
        timeoutMs: 300_000,
        // The user's shell: Node 24 on PATH (make installs it otherwise), nothing installed in HOME yet.
        env: { PATH: [dirname(process.execPath), process.env["PATH"] ?? ""].join(delimiter), HOME: home, npm_config_offline: "true", npm_config_update_notifier: "false" },
      });
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(/^mcp-warden \d+\.\d+\.\d+\ncommit: \S+\nMCP protocol versions: /m);
      expect(result.stdout).toContain("ready\n");
      expect(result.stdout).toContain("5 passed, 0 failed\ncoverage: 2 of 2 rules exercised\n");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 320_000);
});
