// The entry of the bundle (tools/build-dist.ts), the one build the product ships: the
// single executable runs it as its main script, the npm package's commands and the images
// through packaging/bin/. Each command is loaded only when it runs, and the operator and
// the Kubernetes client only by `mcp-warden operator` (cli/operator-command.ts).
import { basename } from "node:path";
import { isSea } from "node:sea";

export type CommandName = "mcp-warden" | "kubectl-mcpwarden";

export async function run(command: CommandName, argv: readonly string[]): Promise<void> {
  if (command === "kubectl-mcpwarden") return (await import("./kubectl-plugin.ts")).runKubectlPlugin(argv);
  return (await import("./program.ts")).runMcpWarden(argv);
}

/**
 * Which command the single executable is, by the name it was called by: kubectl runs a
 * plugin by its path (`.../kubectl-mcpwarden`), a symlink or a copy keeps its own name.
 */
export function commandCalledAs(argv0: string): CommandName {
  return basename(argv0).startsWith("kubectl-mcpwarden") ? "kubectl-mcpwarden" : "mcp-warden";
}

// In the single executable this file is the main script; elsewhere packaging/bin/ calls run().
if (isSea()) void run(commandCalledAs(process.argv0), process.argv.slice(2));
