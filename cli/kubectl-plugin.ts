// `kubectl mcpwarden`: the kubectl plugin (kubectl finds `kubectl-mcpwarden` on PATH).
//   approvals [-n NS | -A] [-o json|yaml]   pending approvals: age, tool, caller, pod
//   approve NS/NAME [--reason TEXT]         sets spec.decision; the API server records who
//   deny NS/NAME [--reason TEXT]
//   status [-n NS | -A] [-o json|yaml]      policies: Accepted, Programmed, pods, in sync, unprotected
//   analyze [-n NS | -A] [-o json]          what is wrong and how to fix it (codes MW001...; exit 1 on errors)
//   pin accept NS/POLICY TOOL [--digest D]  pins the tool definition the policy's pods see
// It drives kubectl itself ($MCPWARDEN_KUBECTL, else `kubectl` on PATH), so the user's
// kubeconfig, context and credentials plugins apply unchanged, and RBAC and the admission
// webhooks decide what a person may do, not this program.

import { execFile } from "node:child_process";
import { Command, CommanderError, Option } from "commander";
import { table, renderApprovals, OUTPUT_FORMATS, type ApprovalRow, type OutputFormat } from "./approval-table.ts";
import { dump } from "js-yaml";
import type { Finding } from "./analyze-cluster.ts";
import { exitQuietlyWhenStdoutCloses } from "./closed-stdout.ts";
import { registerPinCommand } from "./pin-accept-command.ts";

interface ScopeFlags {
  namespace?: string;
  allNamespaces?: boolean;
  output: OutputFormat;
}

interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[]): Promise<KubectlResult> {
  const binary = process.env["MCPWARDEN_KUBECTL"] ?? "kubectl";
  return new Promise((resolve) => {
    execFile(binary, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr: stderr || (error !== null && typeof error.code !== "number" ? `${binary}: ${error.message}\n` : "") });
    });
  });
}

function scopeArgs(flags: ScopeFlags): string[] {
  if (flags.allNamespaces === true) return ["--all-namespaces"];
  return flags.namespace === undefined ? [] : ["--namespace", flags.namespace];
}

/** kubectl's answer as JSON items, or undefined after passing its error on. */
async function listItems(resource: string, flags: ScopeFlags): Promise<Record<string, unknown>[] | undefined> {
  const result = await kubectl(["get", resource, "-o", "json", ...scopeArgs(flags)]);
  if (result.code !== 0) {
    process.stderr.write(result.stderr);
    process.exitCode = result.code;
    return undefined;
  }
  return ((JSON.parse(result.stdout) as { items?: Record<string, unknown>[] }).items ?? []);
}

type Json = Record<string, unknown>;
const field = (object: unknown, ...path: string[]): unknown => path.reduce<unknown>((value, key) => (value !== null && typeof value === "object" ? (value as Json)[key] : undefined), object);
const text = (value: unknown): string => (typeof value === "string" ? value : value === undefined || value === null ? "" : String(value));

function approvalRow(item: Json): ApprovalRow {
  const decidedBy = text(field(item, "status", "decidedBy")) || text(field(item, "spec", "decision", "decidedBy"));
  const verdict = text(field(item, "spec", "decision", "verdict"));
  const phase = text(field(item, "status", "phase")) || (verdict === "approve" ? "Approved" : verdict === "deny" ? "Denied" : "Pending");
  return {
    namespace: text(field(item, "metadata", "namespace")),
    name: text(field(item, "metadata", "name")),
    phase,
    tool: text(field(item, "spec", "tool")),
    caller: text(field(item, "spec", "caller")),
    pod: text(field(item, "spec", "pod")),
    requestedAt: text(field(item, "spec", "requestedAt")),
    expiresAt: text(field(item, "spec", "expiresAt")),
    ...(decidedBy === "" ? {} : { decidedBy }),
  };
}

function conditionStatus(item: Json, type: string): string {
  const conditions = field(item, "status", "conditions");
  const found = Array.isArray(conditions) ? (conditions as Json[]).find((condition) => condition["type"] === type) : undefined;
  return found === undefined ? "Unknown" : text(found["status"]);
}

function render(raw: unknown, format: OutputFormat, human: () => string): string {
  if (format === "json") return JSON.stringify(raw, null, 2);
  if (format === "yaml") return dump(raw, { noRefs: true, lineWidth: -1 }).trimEnd();
  return human();
}

function buildPlugin(): Command {
  const program = new Command("kubectl mcpwarden").description("mcp-warden approvals and policy status in this cluster").exitOverride();
  const scoped = (command: Command): Command =>
    command
      .option("-n, --namespace <namespace>", "this namespace (default: the context's)")
      .option("-A, --all-namespaces", "every namespace")
      .addOption(new Option("-o, --output <format>", "output format").choices(OUTPUT_FORMATS).default("table"));

  scoped(program.command("approvals").description("list the tool calls waiting for a decision (all phases with -o json|yaml)")).action(async (flags: ScopeFlags) => {
    const items = await listItems("mcpapprovals.mcpwarden.dev", flags);
    if (items === undefined) return;
    const rows = items.map(approvalRow);
    const pending = flags.output === "table" ? rows.filter((row) => row.phase === "Pending") : rows;
    const raw = { apiVersion: "v1", kind: "List", items };
    process.stdout.write(`${flags.output === "table" && pending.length === 0 ? "No pending approvals." : renderApprovals(pending, raw, flags.output, Date.now())}\n`);
  });

  for (const verdict of ["approve", "deny"] as const) {
    program
      .command(verdict)
      .description(`${verdict} a pending approval (the API server records you as the decider)`)
      .argument("<namespace/name>", "the approval, as kubectl mcpwarden approvals lists it")
      .option("--reason <text>", "why, recorded with the decision (the agent reads it on a deny)")
      .action(async (target: string, flags: { reason?: string }) => {
        const [namespace, name, extra] = target.split("/");
        if (namespace === undefined || name === undefined || namespace === "" || name === "" || extra !== undefined) {
          process.stderr.write(`error: give the approval as NAMESPACE/NAME, got ${JSON.stringify(target)}\n`);
          process.exitCode = 2;
          return;
        }
        const decision = { verdict, ...(flags.reason === undefined ? {} : { reason: flags.reason }) };
        const patched = await kubectl(["patch", "mcpapprovals.mcpwarden.dev", name, "--namespace", namespace, "--type=merge", "-p", JSON.stringify({ spec: { decision } }), "-o", "json"]);
        if (patched.code !== 0) {
          process.stderr.write(patched.stderr);
          process.exitCode = 1;
          return;
        }
        const decidedBy = text(field(JSON.parse(patched.stdout), "spec", "decision", "decidedBy"));
        process.stdout.write(`mcpapproval ${namespace}/${name} ${verdict === "approve" ? "approved" : "denied"}${decidedBy === "" ? "" : ` (recorded decider: ${decidedBy})`}\n`);
      });
  }

  scoped(program.command("status").description("policies: Accepted, Programmed, pods, in sync, unprotected")).action(async (flags: ScopeFlags) => {
    const items = await listItems("mcppolicies.mcpwarden.dev", flags);
    if (items === undefined) return;
    const raw = { apiVersion: "v1", kind: "List", items };
    process.stdout.write(
      `${render(raw, flags.output, () => {
        if (items.length === 0) return "No policies.";
        const header = ["NAMESPACE", "NAME", "ACCEPTED", "PROGRAMMED", "PODS", "IN-SYNC", "UNPROTECTED"];
        const rows = items.map((item) => [
          text(field(item, "metadata", "namespace")),
          text(field(item, "metadata", "name")),
          conditionStatus(item, "Accepted"),
          conditionStatus(item, "Programmed"),
          text(field(item, "status", "targets", "pods")) || "0",
          text(field(item, "status", "targets", "inSync")) || "0",
          text(field(item, "status", "targets", "unprotected")) || "0",
        ]);
        return table([header, ...rows]);
      })}\n`,
    );
  });
  program
    .command("analyze")
    .description("find what is wrong with mcp-warden in a namespace (-n) or the cluster (-A) and say how to fix it; exit 1 on errors")
    .option("-n, --namespace <namespace>", "this namespace (default: the context's)")
    .option("-A, --all-namespaces", "every namespace")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (flags: { namespace?: string; allNamespaces?: boolean; output: "text" | "json" }) => {
      const namespace = flags.allNamespaces === true ? undefined : (flags.namespace ?? (await contextNamespace()));
      const scope: ScopeFlags = namespace === undefined ? { allNamespaces: true, output: "json" } : { namespace, output: "json" };
      const listed = await listItems("pods,services,mcppolicies.mcpwarden.dev", scope);
      if (listed === undefined) return;
      // Namespace labels say where injection is on; a user who may not read namespaces still gets the rest.
      const namespaces = await kubectl(["get", namespace === undefined ? "namespaces" : `namespace/${namespace}`, "-o", "json"]);
      if (namespaces.code !== 0) process.stderr.write(`warning: cannot read namespaces, so namespace-wide injection is not checked: ${namespaces.stderr.trim()}\n`);
      const namespaceObjects = namespaces.code !== 0 ? [] : ((parsed: Json) => (Array.isArray(parsed["items"]) ? (parsed["items"] as Json[]) : [parsed]))(JSON.parse(namespaces.stdout) as Json);
      const ofKind = <T>(kind: string): T[] => listed.filter((item) => item["kind"] === kind) as T[];
      // Loaded here: it brings the policy compiler, which the other commands do not need.
      const { analyzeCluster } = await import("./analyze-cluster.ts");
      const findings = analyzeCluster({ namespaces: namespaceObjects, pods: ofKind("Pod"), services: ofKind("Service"), policies: ofKind("McpPolicy") });
      const where = namespace === undefined ? "the cluster" : `namespace ${namespace}`;
      if (flags.output === "json") process.stdout.write(`${JSON.stringify({ findings }, null, 2)}\n`);
      else process.stdout.write(findings.length === 0 ? `No problems found in ${where}.\n` : `${findings.map(renderFinding).join("\n")}\n`);
      if (findings.some((finding) => finding.severity === "Error")) process.exitCode = 1;
    });
  registerPinCommand(program, kubectl);
  return program;
}

/** The current context's namespace, as kubectl would use it. */
async function contextNamespace(): Promise<string> {
  const result = await kubectl(["config", "view", "--minify", "-o", "jsonpath={..namespace}"]);
  return result.code === 0 && result.stdout.trim() !== "" ? result.stdout.trim() : "default";
}

function renderFinding(finding: Finding): string {
  const { kind, namespace, name } = finding.object;
  return `${finding.severity} [${finding.code}] (${kind} ${namespace === "" ? name : `${namespace}/${name}`}) ${finding.message}\n    fix: ${finding.fix}`;
}

/** Runs the plugin's command line; exit codes: 0, 1 for a failure, 2 for bad usage. */
export async function runKubectlPlugin(argv: readonly string[]): Promise<void> {
  exitQuietlyWhenStdoutCloses();
  try {
    await buildPlugin().parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
    process.stderr.write(`kubectl mcpwarden: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
