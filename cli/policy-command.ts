// `mcp-warden policy validate|import|test`: the policy core (policy/) behind a command
// line. All file reading happens here; policy/ stays pure. Exit codes: 0 done, 1 the
// input has problems (each listed), 2 the command was used wrongly (commander's own
// usage errors, bad flag values, unreadable files).

import { type Command, CommanderError, Option } from "commander";
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import {
  CompileCache,
  compilePolicies,
  formatProblem,
  grantScopedLimits,
  PER_AGENT_BUDGETS_NOTE,
  sharedGrantBudget,
  labelKeyProblem,
  labelValueProblem,
  namespaceProblem,
  objectNameProblem,
  readPolicyText,
  renderPolicyYaml,
  type DecisionTable,
  type LabelSelector,
  type McpPolicy,
  policyRef,
} from "../policy/index.ts";
import { readCalls } from "./policy-test-calls.ts";
import { runPolicyTest, TEST_OUTPUT_FORMATS, type TestOutputFormat } from "./policy-test-run.ts";
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
    .action(async (files: string[]) => {
      const cache = await fullCompileCache();
      const loaded = loadPolicyFiles(files, io, cache);
      for (const problem of loaded.problems) io.stderr(problem);
      // The readable policies are also checked together (counters, identity), so one run lists everything.
      const table = compileLoaded(loaded, io, cache, true);
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
      if (grantScopedLimits(document.result.policy).length > 0) io.stderr(`note: ${PER_AGENT_BUDGETS_NOTE}`);
      io.stdout(`# Imported from the PolicyLayer document ${basename(file)} by mcp-warden policy import.`);
      io.stdout(renderPolicyYaml(document.result.policy).trimEnd());
    });

  policy
    .command("test")
    .description("decide a sequence of calls against policies; checks each call's expect, or prints one JSON decision per call")
    .argument("<policies...>", "policy files (all of them apply, as for one pod)")
    .addOption(new Option("--calls <file>", 'JSON Lines, one call each: {"tool","arguments","identity","session","at","listed","expect"}').makeOptionMandatory())
    .option("--coverage", "list the rules no call exercised (matched by any policy, whatever the combined decision)")
    .addOption(new Option("-o, --output <format>", "text, or one JSON document for CI").choices(TEST_OUTPUT_FORMATS).default("text"))
    .action(async (files: string[], options: { calls: string; coverage?: boolean; output: TestOutputFormat }) => {
      const cache = await fullCompileCache();
      const loaded = loadPolicyFiles(files, io, cache);
      if (loaded.problems.length > 0) return failWith(loaded.problems, io);
      const table = compileLoaded(loaded, io, cache);
      if (table === undefined) return io.setExitCode(1);
      const calls = readCalls(options.calls, readOrExit(options.calls, MAX_CALLS_FILE_BYTES, io));
      // A malformed calls file is a usage error, not a failed expectation.
      if (!calls.ok) return failWith(calls.problems, io, 2);
      io.setExitCode(await runPolicyTest(table, calls.calls, options.calls, { output: options.output, coverage: options.coverage === true }, io.stdout));
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

/**
 * Every engine (CEL, JSON Schema): these commands read any policy. Loaded when one runs,
 * not with the command line: `mcp-warden sidecar` never loads what its policies do not need.
 */
async function fullCompileCache(): Promise<CompileCache> {
  return new CompileCache((await import("../policy/all-engines.ts")).allPolicyEngines());
}

function loadPolicyFiles(files: readonly string[], io: PolicyCommandIo, cache: CompileCache): LoadedPolicies {
  const loaded: LoadedPolicies = { policies: [], fileOf: new Map(), countByFile: new Map(), problems: [] };
  for (const file of files) {
    const read = readPolicyText(readOrExit(file, MAX_POLICY_FILE_BYTES, io), { name: nameFromFile(file) }, cache);
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
function compileLoaded(loaded: LoadedPolicies, io: PolicyCommandIo, cache: CompileCache, warnSharedBudgets = false): DecisionTable | undefined {
  const compiled = compilePolicies(loaded.policies, cache);
  const fileOf = (ref: string | undefined): string => {
    const policy = loaded.policies.find((candidate) => policyRef(candidate) === ref);
    return (policy === undefined ? undefined : loaded.fileOf.get(policy)) ?? "(policies)";
  };
  if (!compiled.ok) {
    for (const problem of compiled.problems) io.stderr(`${fileOf(problem.policy)}: ${formatProblem(problem)}`);
    return undefined;
  }
  for (const conflict of compiled.table.identityConflicts) io.stderr(`${fileOf(conflict.policy)}: warning: spec.identity: ${conflict.message}`);
  if (warnSharedBudgets) {
    for (const policy of loaded.policies) {
      const shared = sharedGrantBudget(policy, compiled.table.identity);
      if (shared !== undefined) io.stderr(`${loaded.fileOf.get(policy) ?? "(policies)"}: warning: ${policyRef(policy)}: ${shared}`);
    }
  }
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

function failWith(lines: readonly string[], io: PolicyCommandIo, code = 1): void {
  for (const line of lines) io.stderr(line);
  io.setExitCode(code);
}
