// What was built: the version, the git commit and the MCP protocol versions. The bundle
// (tools/build-dist.ts) writes them in as MCPWARDEN_BUILD at build time, so an installed
// command never looks for a package.json or a git checkout; run from the sources or from
// tsc's dist/, they are read from the checkout.
import { execFileSync } from "node:child_process";
import { MCP_PROTOCOL_VERSIONS } from "../protocol/mcp-protocol-versions.ts";
import { packageRoot, packageVersion } from "./package-root.ts";

export interface BuildInfo {
  readonly version: string;
  /** The short commit, `-dirty` when built from uncommitted changes; `unknown` outside a checkout. */
  readonly commit: string;
  readonly mcpProtocolVersions: readonly string[];
}

declare const MCPWARDEN_BUILD: { readonly version: string; readonly commit: string } | undefined;

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  if (cached !== undefined) return cached;
  const built = typeof MCPWARDEN_BUILD === "undefined" ? { version: packageVersion(), commit: checkoutCommit() } : MCPWARDEN_BUILD;
  cached = { ...built, mcpProtocolVersions: MCP_PROTOCOL_VERSIONS };
  return cached;
}

/** `mcp-warden version`'s text. */
export function versionText(info: BuildInfo = buildInfo()): string {
  return [`mcp-warden ${info.version}`, `commit: ${info.commit}`, `MCP protocol versions: ${info.mcpProtocolVersions.join(", ")}`].join("\n");
}

/** The checkout's short commit, `-dirty` with uncommitted changes to tracked files (as tools/git-commit.sh). */
export function checkoutCommit(dir: string = packageRoot()): string {
  const git = (...args: string[]): string => execFileSync("git", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    const commit = git("rev-parse", "--short=12", "HEAD");
    if (commit === "") return "unknown";
    return git("status", "--porcelain", "--untracked-files=no") === "" ? commit : `${commit}-dirty`;
  } catch {
    return "unknown";
  }
}
