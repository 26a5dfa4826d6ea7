// The `mcp-warden` command. Subcommands register themselves from their own modules.
import { Command, CommanderError, Option } from "commander";
import { buildInfo, versionText } from "./build-info.ts";
import { registerPolicyCommand } from "./policy-command.ts";
import { registerSidecarCommand } from "./sidecar-command.ts";
import { registerOperatorCommand } from "./operator-command.ts";
import { registerApprovalsCommand } from "./approvals-command.ts";
import { exitQuietlyWhenStdoutCloses } from "./closed-stdout.ts";

function buildProgram(): Command {
  const program = new Command("mcp-warden")
    .description("Policy enforcement for AI agents' MCP tool calls: an operator and a sidecar proxy")
    // Not commander's .version(): that wants the text up front, and reading the commit
    // from a checkout is not free for every other command.
    .option("-V, --version", "print the version, the git commit and the supported MCP protocol versions")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  program.on("option:version", () => {
    program.configureOutput().writeOut?.(`${versionText()}\n`);
    throw new CommanderError(0, "mcp-warden.version", "");
  });
  program
    .command("version")
    .description("print the version, the git commit and the supported MCP protocol versions")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .action((flags: { output: "text" | "json" }) => {
      const info = buildInfo();
      process.stdout.write(`${flags.output === "json" ? JSON.stringify(info) : versionText(info)}\n`);
    });
  registerPolicyCommand(program);
  registerSidecarCommand(program);
  registerOperatorCommand(program);
  registerApprovalsCommand(program);
  return program;
}

/** Runs the command line; exit codes: 0, 1 for a failure, 2 for bad usage. */
export async function runMcpWarden(argv: readonly string[]): Promise<void> {
  exitQuietlyWhenStdoutCloses();
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; bad flags exit 2 with commander's one-line message already printed.
      process.exit(err.exitCode === 0 ? 0 : 2);
    }
    console.error(`mcp-warden: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
