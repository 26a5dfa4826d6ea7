// `mcp-warden policy …` run in the test process, as cli/main.ts runs it: commander's
// usage errors are exit 2, and the output is captured line by line.
import { Command, CommanderError } from "commander";
import { processIo, registerPolicyCommand } from "../../cli/policy-command.ts";

export interface PolicyRun {
  code: number;
  stdout: string[];
  stderr: string[];
}

export async function runPolicyCommand(...args: string[]): Promise<PolicyRun> {
  const result: PolicyRun = { code: 0, stdout: [], stderr: [] };
  const program = new Command("mcp-warden")
    .exitOverride()
    .configureOutput({ writeOut: (text) => void result.stdout.push(text.trimEnd()), writeErr: (text) => void result.stderr.push(text.trimEnd()) });
  registerPolicyCommand(program, {
    readFile: processIo.readFile,
    stdout: (line) => void result.stdout.push(line),
    stderr: (line) => void result.stderr.push(line),
    setExitCode: (code) => void (result.code = code),
  });
  try {
    await program.parseAsync(["node", "mcp-warden", "policy", ...args]);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    result.code = error.exitCode === 0 ? 0 : 2; // what cli/main.ts does
  }
  return result;
}
