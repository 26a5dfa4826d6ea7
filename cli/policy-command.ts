// `mcp-warden policy validate|import|test`: the policy core (policy/) behind a command
// line. All file reading happens here; policy/ stays pure. Exit codes: 0 done, 1 the
// input has problems (each listed), 2 the command was used wrongly (commander's own
// usage errors, bad flag values, unreadable files).

import { type Command, CommanderError, Option } from "commander";
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { MemoryRateLimitStore } from "../sidecar/ratelimit/memory-store.ts";
import {
  admitCall,
  compilePolicies,
  formatProblem,
  labelKeyProblem,
  labelValueProblem,
  namespaceProblem,
  objectNameProblem,
  readPolicyText,
  renderPolicyYaml,
  evaluateCall,
  ServerSchemaCompiler,
  toolDefinitionDigest,
  type Decision,
  type DecisionTable,
  type LabelSelector,
  type McpPolicy,
  policyRef,
  type ToolCall,
} from "../policy/index.ts";
import { SlidingWindowLimiter } from "../policy/ratelimit/sliding-window.ts";
import { registerPolicyPinCommand } from "./policy-pin-command.ts";

/** Where the command reads and writes; tests pass their own. */
export interface PolicyCommandIo {
  /** The file's text; throws with a readable message when it cannot. */
  readFile(path: string, maxBytes: number): string;
  stdout(line: string): void;
  stderr(line: string): void;
  setExitCode(code: number): void;
}

const MAX_POLICY_FILE_BYTES = 16 * 1024 * 1024;
const MAX_CALLS_FILE_BYTES = 256 * 1024 * 1024;

export const processIo: PolicyCommandIo = {
  readFile(path, maxBytes) {
    const size = statSync(path).size;
    if (size > maxBytes) throw new Error(`is ${size} bytes; at most ${maxBytes} are read`);
    return readFileSync(path, "utf8");
  },
  stdout: (line) => void process.stdout.write(`${line}\n`),
  stderr: (line) => void process.stderr.write(`${line}\n`),
  setExitCode: (code) => void (process.exitCode = code),
};

export function registerPolicyCommand(program: Command, io: PolicyCommandIo = processIo): void {
  const policy = program.command("policy").description("validate, import and test McpPolicy and PolicyLayer documents; pin tool definitions");

  policy
    .command("validate")
    .description("check policy files (McpPolicy YAML/JSON or PolicyLayer JSON); exit 1 listing every problem")
    .argument("<files...>", "policy files; several documents per file are allowed")
    .action((files: string[]) => {
      const loaded = loadPolicyFiles(files, io);
      for (const problem of loaded.problems) io.stderr(problem);
      // The readable policies are also checked together (counters, identity), so one run lists everything.
      const table = compileLoaded(loaded, io);
      if (loaded.problems.length > 0 || table === undefined) return io.setExitCode(1);
      for (const file of files) {
        const count = loaded.countByFile.get(file) ?? 0;
        io.stdout(`${file}: ok (${count} ${count === 1 ? "policy" : "policies"})`);
      }
    });

  policy
    .command("import")
    .description("convert a PolicyLayer JSON document to McpPolicy YAML (printed)")
    .argument("<file>", "a PolicyLayer document")
    .option("--name <name>", "metadata.name (default: from the file name)")
    .option("--namespace <namespace>", "metadata.namespace")
    .option("--selector <labels>", "pod labels the policy selects, key=value[,key=value...] (default: every pod in the namespace)")
    .action((file: string, options: { name?: string; namespace?: string; selector?: string }, command: Command) => {
      const name = options.name ?? nameFromFile(file);
      const nameProblem = objectNameProblem(name);
      if (nameProblem !== undefined) command.error(`error: --name ${nameProblem}`, { exitCode: 2, code: "mcp-warden.usage" });
      const namespaceIssue = options.namespace === undefined ? undefined : namespaceProblem(options.namespace);
      if (namespaceIssue !== undefined) command.error(`error: --namespace ${namespaceIssue}`, { exitCode: 2, code: "mcp-warden.usage" });
      const selector = options.selector === undefined ? {} : parseSelector(options.selector, command);

      const text = readOrExit(file, MAX_POLICY_FILE_BYTES, io);
      const layerOptions = { name, selector, ...(options.namespace === undefined ? {} : { namespace: options.namespace }) };
      const read = readPolicyText(text, layerOptions);
      if (!read.ok) return failWith(read.problems.map((problem) => `${file}: ${formatProblem(problem)}`), io);
      const [document, ...rest] = read.documents;
      if (document === undefined || rest.length > 0) return failWith([`${file}: holds ${read.documents.length} documents; import reads one`], io);
      if (document.format !== "PolicyLayer") {
        return failWith([`${file}: is ${document.format === "McpPolicy" ? "already an McpPolicy" : "not a PolicyLayer document"}; import reads PolicyLayer JSON`], io);
      }
      if (!document.result.ok) return failWith(document.result.problems.map((problem) => `${file}: ${formatProblem(problem)}`), io);
      if (options.selector === undefined) io.stderr(`note: no --selector, so the policy selects every pod in its namespace`);
      io.stdout(`# Imported from the PolicyLayer document ${basename(file)} by mcp-warden policy import.`);
      io.stdout(renderPolicyYaml(document.result.policy).trimEnd());
    });

  policy
    .command("test")
    .description("decide a sequence of calls against policies; prints one JSON decision per call")
    .argument("<policies...>", "policy files (all of them apply, as for one pod)")
    .addOption(new Option("--calls <file>", 'JSON Lines, one call each: {"tool","arguments","identity","session","at","listed"}').makeOptionMandatory())
    .action(async (files: string[], options: { calls: string }) => {
      const loaded = loadPolicyFiles(files, io);
      if (loaded.problems.length > 0) return failWith(loaded.problems, io);
      const table = compileLoaded(loaded, io);
      if (table === undefined) return io.setExitCode(1);
      const calls = readCalls(options.calls, readOrExit(options.calls, MAX_CALLS_FILE_BYTES, io));
      if (!calls.ok) return failWith(calls.problems, io);
      const limiter = new SlidingWindowLimiter(new MemoryRateLimitStore());
      for (const { call, atMs } of calls.calls) {
        const admitted = await admitCall(evaluateCall(table, call, atMs), limiter, atMs);
        const line: Record<string, unknown> = decisionLine(admitted.decision);
        // Audit policies, and pins in toolDefinitions mode audit, report without refusing.
        if (table.audit.length > 0 || admitted.audit.length > 0) line["audit"] = admitted.audit.map(decisionLine);
        io.stdout(JSON.stringify(line));
      }
    });

  registerPolicyPinCommand(policy, io);
}

interface LoadedPolicies {
  policies: McpPolicy[];
  /** Which file each policy came from, for problems found across files. */
  fileOf: Map<McpPolicy, string>;
  countByFile: Map<string, number>;
  problems: string[];
}

function loadPolicyFiles(files: readonly string[], io: PolicyCommandIo): LoadedPolicies {
  const loaded: LoadedPolicies = { policies: [], fileOf: new Map(), countByFile: new Map(), problems: [] };
  for (const file of files) {
    const read = readPolicyText(readOrExit(file, MAX_POLICY_FILE_BYTES, io), { name: nameFromFile(file) });
    if (!read.ok) {
      loaded.problems.push(...read.problems.map((problem) => `${file}: ${formatProblem(problem)}`));
      continue;
    }
    const several = read.documents.length > 1;
    for (const { document, result } of read.documents) {
      if (!result.ok) {
        loaded.problems.push(...result.problems.map((problem) => `${file}: ${formatProblem(several ? { ...problem, document } : problem)}`));
        continue;
      }
      loaded.policies.push(result.policy);
      loaded.fileOf.set(result.policy, file);
      loaded.countByFile.set(file, (loaded.countByFile.get(file) ?? 0) + 1);
    }
  }
  return loaded;
}

/** Compiles all loaded policies together (counters and identity span files); problems are printed. */
function compileLoaded(loaded: LoadedPolicies, io: PolicyCommandIo): DecisionTable | undefined {
  const compiled = compilePolicies(loaded.policies);
  const fileOf = (ref: string | undefined): string => {
    const policy = loaded.policies.find((candidate) => policyRef(candidate) === ref);
    return (policy === undefined ? undefined : loaded.fileOf.get(policy)) ?? "(policies)";
  };
  if (!compiled.ok) {
    for (const problem of compiled.problems) io.stderr(`${fileOf(problem.policy)}: ${formatProblem(problem)}`);
    return undefined;
  }
  for (const conflict of compiled.table.identityConflicts) io.stderr(`${fileOf(conflict.policy)}: warning: spec.identity: ${conflict.message}`);
  return compiled.table;
}

/** A PolicyLayer document has no name: `mockloop.policylayer.json` is called `mockloop`. */
function nameFromFile(file: string): string {
  const stem = basename(file).replace(/(\.policylayer)?\.(json|ya?ml)$/i, "");
  const name = stem.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  return name === "" ? "policylayer" : name.slice(0, 253);
}

function parseSelector(text: string, command: Command): LabelSelector {
  const matchLabels: Record<string, string> = {};
  for (const pair of text.split(",")) {
    const equals = pair.indexOf("=");
    const key = equals < 0 ? pair : pair.slice(0, equals);
    const value = equals < 0 ? undefined : pair.slice(equals + 1);
    const problem = value === undefined ? `"${pair}" is not key=value` : (labelKeyProblem(key) ?? labelValueProblem(value));
    if (problem !== undefined) command.error(`error: --selector ${problem}`, { exitCode: 2, code: "mcp-warden.usage" });
    matchLabels[key] = value as string;
  }
  return { matchLabels };
}

/** An unreadable file is a usage error (exit 2), said in one line without the usage hint. */
function readOrExit(file: string, maxBytes: number, io: PolicyCommandIo): string {
  try {
    return io.readFile(file, maxBytes);
  } catch (error) {
    const message = `error: cannot read ${file}: ${readErrorReason(error)}`;
    io.stderr(message);
    throw new CommanderError(2, "mcp-warden.unreadable", message);
  }
}

function readErrorReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  return error instanceof Error ? error.message : String(error);
}

function failWith(lines: readonly string[], io: PolicyCommandIo): void {
  for (const line of lines) io.stderr(line);
  io.setExitCode(1);
}

function decisionLine(decision: Decision): Record<string, unknown> {
  const line: Record<string, unknown> = {
    decision: decision.decision,
    policy: decision.policy,
    rule: decision.rule,
    reason: decision.reason,
  };
  if (decision.retryAfterSeconds !== undefined) line["retryAfterSeconds"] = decision.retryAfterSeconds;
  return line;
}

const CALL_KEYS = ["tool", "arguments", "identity", "session", "at", "listed"];
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

type CallsResult = { ok: true; calls: { call: ToolCall; atMs: number }[] } | { ok: false; problems: string[] };

/**
 * One call per line. `identity` and `session` are ids ("alice") or objects ({"id",
 * "claims"}); both default to "". `at` (ISO 8601 with a zone) defaults to the previous
 * call's time (the first call: 1970-01-01T00:00:00Z) and may not go back in time.
 * `listed`: the tool object as the server last listed it (what pins and
 * validateServerSchema judge by); absent, no listing has named the tool.
 */
function readCalls(file: string, text: string): CallsResult {
  const schemas = new ServerSchemaCompiler();
  const calls: { call: ToolCall; atMs: number }[] = [];
  const problems: string[] = [];
  let previousMs = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const where = `${file}:${index + 1}`;
    if (raw.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      problems.push(`${where}: not JSON: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const parsed = readCall(value, previousMs, schemas);
    if (typeof parsed === "string") {
      problems.push(`${where}: ${parsed}`);
      return;
    }
    previousMs = parsed.atMs;
    calls.push(parsed);
  });
  if (problems.length === 0 && calls.length === 0) problems.push(`${file}: holds no calls`);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, calls };
}

function readCall(value: unknown, previousMs: number, schemas: ServerSchemaCompiler): { call: ToolCall; atMs: number } | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return 'a call must be an object {"tool", "arguments", "identity", "session", "at"}';
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !CALL_KEYS.includes(key));
  if (unknown.length > 0) return `unknown field ${JSON.stringify(unknown[0])} (allowed: ${CALL_KEYS.join(", ")})`;
  const tool = record["tool"];
  if (typeof tool !== "string") return "tool: must be a string";
  const identity = readParty(record["identity"], "identity", true);
  if (typeof identity === "string") return identity;
  const session = readParty(record["session"], "session", false);
  if (typeof session === "string") return session;
  let atMs = previousMs;
  if (record["at"] !== undefined) {
    const at = record["at"];
    if (typeof at !== "string" || !ISO_TIME.test(at) || Number.isNaN(Date.parse(at))) {
      return `at: ${JSON.stringify(at)} is not an ISO 8601 time with a zone (e.g. 2026-01-01T10:00:00Z)`;
    }
    atMs = Date.parse(at);
    if (atMs < previousMs) return `at: ${at} is earlier than the previous call; calls must be in time order`;
  }
  const listed = record["listed"];
  if (listed !== undefined && (typeof listed !== "object" || listed === null || Array.isArray(listed) || (listed as Record<string, unknown>)["name"] !== tool)) {
    return `listed: must be the tool object as the server lists it, with "name": ${JSON.stringify(tool)}`;
  }
  const call: ToolCall = {
    tool,
    identity: identity.claims === undefined ? { id: identity.id } : identity,
    session: { id: session.id },
    ...(listed === undefined ? {} : { listed: listedTool(listed as Record<string, unknown>, schemas) }),
  };
  return { call: record["arguments"] === undefined ? call : { ...call, arguments: record["arguments"] }, atMs };
}

function listedTool(tool: Record<string, unknown>, schemas: ServerSchemaCompiler): NonNullable<ToolCall["listed"]> {
  return { digest: toolDefinitionDigest(tool), inputSchema: schemas.compile(tool["inputSchema"]) };
}

function readParty(value: unknown, field: string, claims: boolean): { id: string; claims?: Record<string, unknown> } | string {
  if (value === undefined) return { id: "" };
  if (typeof value === "string") return { id: value };
  const shape = claims ? '{"id", "claims"}' : '{"id"}';
  if (typeof value !== "object" || value === null || Array.isArray(value)) return `${field}: must be an id or ${shape}`;
  const record = value as Record<string, unknown>;
  const allowed = claims ? ["id", "claims"] : ["id"];
  if (Object.keys(record).some((key) => !allowed.includes(key)) || typeof record["id"] !== "string") return `${field}: must be an id or ${shape}`;
  const claimValue = record["claims"];
  if (claimValue === undefined) return { id: record["id"] };
  if (typeof claimValue !== "object" || claimValue === null || Array.isArray(claimValue)) return `${field}.claims: must be an object`;
  return { id: record["id"], claims: claimValue as Record<string, unknown> };
}
