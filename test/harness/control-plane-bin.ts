import { execFileSync } from "node:child_process";
import { packageRoot as repoRoot } from "../../cli/package-root.ts";
import { join } from "node:path";

/**
 * The folder holding etcd, kube-apiserver, kubectl and helm: from
 * MCPWARDEN_CONTROL_PLANE_BIN (the Makefile sets it), else from the build script,
 * which returns at once when the binaries are cached.
 */
export function controlPlaneBinDir(): string {
  const fromEnv = process.env.MCPWARDEN_CONTROL_PLANE_BIN;
  if (fromEnv) return fromEnv;
  return execFileSync(join(repoRoot(), "tools", "build-control-plane.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}
