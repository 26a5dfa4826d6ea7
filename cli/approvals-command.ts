// `mcp-warden approvals|approve|deny --admin URL`: a standalone sidecar's approvals through
// its admin API. The token (when the sidecar has --admin-token-file) comes from
// --admin-token-file or $MCPWARDEN_ADMIN_TOKEN, never from a flag's value, so it stays out
// of shell history and process lists. Exit codes: 0 done, 1 the sidecar refused or could
// not be reached, 2 the command was used wrongly.

import { type Command, Option } from "commander";
import { readFileSync } from "node:fs";
import { OUTPUT_FORMATS, renderApprovals, type ApprovalRow, type OutputFormat } from "./approval-table.ts";

export interface ApprovalsCommandIo {
  stdout(line: string): void;
  stderr(line: string): void;
  setExitCode(code: number): void;
  readFile(path: string): string;
  env(name: string): string | undefined;
  now(): number;
  fetch: typeof fetch;
}

const processIo: ApprovalsCommandIo = {
  stdout: (line) => void process.stdout.write(`${line}\n`),
  stderr: (line) => void process.stderr.write(`${line}\n`),
  setExitCode: (code) => void (process.exitCode = code),
  readFile: (path) => readFileSync(path, "utf8"),
  env: (name) => process.env[name],
  now: () => Date.now(),
  fetch: (...args) => fetch(...args),
};

interface AdminFlags {
  admin: string;
  adminTokenFile?: string;
}

const DEFAULT_ADMIN = "http://127.0.0.1:9464";
const REQUEST_TIMEOUT_MS = 10_000;

export function registerApprovalsCommand(program: Command, io: ApprovalsCommandIo = processIo): void {
  const adminOptions = (command: Command): Command =>
    command
      .option("--admin <url>", "the sidecar's admin API", DEFAULT_ADMIN)
      .option("--admin-token-file <file>", "the sidecar's admin token (default: $MCPWARDEN_ADMIN_TOKEN, else none)");

  adminOptions(program.command("approvals").description("list a standalone sidecar's approvals (Kubernetes: kubectl mcpwarden approvals)"))
    .addOption(new Option("-o, --output <format>", "output format").choices(OUTPUT_FORMATS).default("table"))
    .action(async (flags: AdminFlags & { output: OutputFormat }) => {
      const answer = await call(io, flags, "GET", "/v1/approvals");
      if (answer === undefined) return;
      const items = (answer as { items?: unknown }).items;
      const rows = Array.isArray(items) ? (items as ApprovalRow[]) : [];
      io.stdout(renderApprovals(rows, answer, flags.output, io.now()));
    });

  for (const verdict of ["approve", "deny"] as const) {
    adminOptions(program.command(verdict).description(`${verdict} a standalone sidecar's pending approval (Kubernetes: kubectl mcpwarden ${verdict})`))
      .argument("<name>", "the approval's name (mcp-warden approvals lists them)")
      .option("--reason <text>", "why, recorded with the decision")
      .action(async (name: string, flags: AdminFlags & { reason?: string }) => {
        const body = flags.reason === undefined ? {} : { reason: flags.reason };
        const answer = await call(io, flags, "POST", `/v1/approvals/${encodeURIComponent(name)}/${verdict}`, body);
        if (answer === undefined) return;
        const decided = answer as { name?: string; phase?: string; decidedBy?: string };
        io.stdout(`approval ${decided.name ?? name} ${decided.phase === "Approved" ? "approved" : "denied"} (recorded decider: ${decided.decidedBy ?? "?"})`);
      });
  }
}

/** The admin API's JSON answer, or undefined after reporting why there is none. */
async function call(io: ApprovalsCommandIo, flags: AdminFlags, method: "GET" | "POST", path: string, body?: object): Promise<unknown> {
  const fail = (code: number, message: string): undefined => {
    io.stderr(`mcp-warden: ${message}`);
    io.setExitCode(code);
    return undefined;
  };
  const base = URL.parse(flags.admin);
  if (base === null || (base.protocol !== "http:" && base.protocol !== "https:")) return fail(2, `--admin must be an http:// or https:// URL, got ${JSON.stringify(flags.admin)}`);
  let token: string | undefined = io.env("MCPWARDEN_ADMIN_TOKEN");
  if (flags.adminTokenFile !== undefined) {
    try {
      token = io.readFile(flags.adminTokenFile).trim();
    } catch {
      return fail(2, `--admin-token-file ${flags.adminTokenFile}: cannot be read`);
    }
  }
  let response: Response;
  try {
    response = await io.fetch(new URL(path, base), {
      method,
      headers: { accept: "application/json", ...(token === undefined || token === "" ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    return fail(1, `the sidecar's admin API at ${base.origin} cannot be reached: ${error instanceof Error ? error.message : String(error)}`);
  }
  const text = await response.text().catch(() => "");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail(1, `the admin API answered ${response.status} without JSON: ${text.slice(0, 200).trim()}`);
  }
  if (!response.ok) {
    const error = (parsed as { error?: unknown }).error;
    return fail(1, `${response.status}: ${typeof error === "string" ? error : text.trim()}`);
  }
  return parsed;
}
