#!/usr/bin/env node
// The `mcp-warden` command. Subcommands register themselves from their own modules.
import { Command, CommanderError } from "commander";
import { packageVersion } from "./package-root.ts";
import { registerPolicyCommand } from "./policy-command.ts";
import { registerSidecarCommand } from "./sidecar-command.ts";
import { registerOperatorCommand } from "./operator-command.ts";
import { registerApprovalsCommand } from "./approvals-command.ts";


export function buildProgram(): Command {
  const program = new Command("mcp-warden")
    .description("Policy enforcement for AI agents' MCP tool calls: an operator and a sidecar proxy")
    .version(packageVersion())
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerPolicyCommand(program);
  registerSidecarCommand(program);
  registerOperatorCommand(program);
  registerApprovalsCommand(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; bad flags exit 2 with commander's one-line message already printed.
      process.exit(err.exitCode === 0 ? 0 : 2);
    }
    console.error(`mcp-warden: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

await main(process.argv);
