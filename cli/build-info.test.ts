import { afterEach, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkoutCommit } from "./build-info.ts";

describe("checkoutCommit (what `mcp-warden version` names when run from a checkout)", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const repository = (): { dir: string; git: (...args: string[]) => string } => {
    const dir = mkdtempSync(join(tmpdir(), "mcpwarden-commit-"));
    dirs.push(dir);
    const git = (...args: string[]): string => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], { cwd: dir, encoding: "utf8" }).trim();
    git("init", "--quiet");
    writeFileSync(join(dir, "file.txt"), "one\n");
    git("add", "file.txt");
    git("commit", "--quiet", "-m", "one");
    return { dir, git };
  };

  it("is the short commit of a clean checkout, and says -dirty once a tracked file changes (an untracked one does not count)", () => {
    const { dir, git } = repository();
    const head = git("rev-parse", "--short=12", "HEAD");
    writeFileSync(join(dir, "untracked.txt"), "new\n");
    expect(checkoutCommit(dir)).toBe(head);
    writeFileSync(join(dir, "file.txt"), "two\n");
    expect(checkoutCommit(dir)).toBe(`${head}-dirty`);
  });

  it("is unknown outside a git checkout", () => {
    const dir = mkdtempSync(join(tmpdir(), "mcpwarden-commit-"));
    dirs.push(dir);
    expect(checkoutCommit(dir)).toBe("unknown");
  });
});
