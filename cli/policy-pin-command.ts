// `mcp-warden policy pin --upstream URL | --upstream-command CMD`: lists every page of the
// server's tools/list with a real MCP client and prints the pins of the definitions it
// lists now, as a `toolDefinitions:` block (mode pin) to paste under an McpPolicy's spec.
// The MCP client is loaded when the command runs (cli/policy-pin.ts): every other command
// (the sidecar above all) starts without it.

import { type Command, Option } from "commander";
import { upstreamFromFlags } from "./sidecar-command.ts";

const DEFAULT_TIMEOUT_SECONDS = 30;

/** Where the command writes (the policy command's io). */
export interface PinIo {
  stdout(line: string): void;
  stderr(line: string): void;
  setExitCode(code: number): void;
}

export function registerPolicyPinCommand(policy: Command, io: PinIo): void {
  policy
    .command("pin")
    .description("print pins of the tool definitions an MCP server lists now: a toolDefinitions: block to paste under an McpPolicy's spec")
    .option("--upstream <url>", "the server's Streamable HTTP endpoint (a URL ending in /sse: the legacy SSE transport)")
    .option("--upstream-command <command>", 'a stdio MCP server, started for this and stopped after (split like a shell would, never run by one)')
    .addOption(new Option("--timeout <seconds>", "how long each request may take").default(String(DEFAULT_TIMEOUT_SECONDS)))
    .action(async (flags: { upstream?: string; upstreamCommand?: string; timeout: string }, command: Command) => {
      const upstream = upstreamFromFlags(flags);
      if (!upstream.ok) command.error(`error: ${upstream.message}`, { exitCode: 2, code: "mcp-warden.usage" });
      const seconds = Number(flags.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0) command.error(`error: --timeout must be a positive number of seconds, got ${JSON.stringify(flags.timeout)}`, { exitCode: 2, code: "mcp-warden.usage" });
      const source = "url" in upstream.value ? upstream.value.url : flags.upstreamCommand ?? "";
      const { listToolDefinitions, renderPins } = await import("./policy-pin.ts");
      const listed = await listToolDefinitions(upstream.value, seconds * 1000);
      if (!listed.ok) {
        io.stderr(`error: could not list the tools of ${source}: ${listed.message}`);
        return io.setExitCode(1);
      }
      io.stdout(renderPins(listed.tools, source).trimEnd());
    });
}

