// `kubectl mcpwarden pin accept NAMESPACE/POLICY TOOL [--digest sha256:…]`: pins the tool
// definition the policy's pods see (status.toolDefinitions, written by the operator from
// the sidecars' reports) by writing it into spec.toolDefinitions.pins — through the
// user's kubectl, so their credentials and RBAC decide whether they may. When pods see
// more than one definition, --digest chooses among them (the variants are listed); a
// policy that does not exist, or a tool no pod lists, is an error (exit 1).

import type { Command } from "commander";
import { TOOL_DIGEST_PATTERN } from "../policy/index.ts";

export type KubectlRunner = (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

interface SeenDefinition {
  digest: string;
  pods: number;
}

interface ToolStatus {
  name: string;
  pinned?: string;
  seen?: SeenDefinition[];
}

interface PolicyJson {
  spec?: { toolDefinitions?: { mode?: string; pins?: Record<string, string> } };
  status?: { toolDefinitions?: { tools?: ToolStatus[] } };
}

const RESOURCE = "mcppolicies.mcpwarden.dev";

export function registerPinCommand(program: Command, kubectl: KubectlRunner): void {
  const pin = program.command("pin").description("tool definition pins (spec.toolDefinitions) of McpPolicies");
  pin
    .command("accept")
    .description("pin the definition of TOOL the policy's pods see (status.toolDefinitions); you write the spec, so your RBAC applies")
    .argument("<namespace/policy>", "the McpPolicy")
    .argument("<tool>", "the tool's exact name")
    .option("--digest <digest>", "the definition to pin (sha256:…), required when pods see more than one")
    .action(async (target: string, tool: string, flags: { digest?: string }) => {
      const fail = (message: string, code = 1): void => {
        process.stderr.write(`error: ${message}\n`);
        process.exitCode = code;
      };
      const [namespace, name, extra] = target.split("/");
      if (namespace === undefined || name === undefined || namespace === "" || name === "" || extra !== undefined) {
        return fail(`give the policy as NAMESPACE/NAME, got ${JSON.stringify(target)}`, 2);
      }
      if (flags.digest !== undefined && !TOOL_DIGEST_PATTERN.test(flags.digest)) {
        return fail(`--digest must be sha256: and 64 lowercase hex digits, got ${JSON.stringify(flags.digest)}`, 2);
      }
      const got = await kubectl(["get", RESOURCE, name, "--namespace", namespace, "-o", "json"]);
      if (got.code !== 0) {
        process.stderr.write(got.stderr);
        process.exitCode = 1;
        return;
      }
      const policy = JSON.parse(got.stdout) as PolicyJson;
      const ref = `${namespace}/${name}`;
      if (policy.spec?.toolDefinitions === undefined) {
        return fail(`${ref} has no spec.toolDefinitions: set it (mode: audit shows what the pods list without refusing anything), then accept the definitions its status shows`);
      }
      const tools = policy.status?.toolDefinitions?.tools ?? [];
      const status = tools.find((entry) => entry.name === tool);
      const seen = status?.seen ?? [];
      if (seen.length === 0) {
        const listed = tools.filter((entry) => (entry.seen ?? []).length > 0).map((entry) => entry.name);
        return fail(`no pod selected by ${ref} lists a tool ${JSON.stringify(tool)}${listed.length === 0 ? " (no pod has reported any tool yet)" : ` (they list: ${listed.join(", ")})`}`);
      }
      const pinned = policy.spec.toolDefinitions.pins?.[tool];
      let digest = flags.digest;
      if (digest === undefined) {
        if (seen.length > 1) return fail(`the pods of ${ref} see ${seen.length} definitions of ${JSON.stringify(tool)}; choose one with --digest:\n${variants(seen, pinned)}`);
        digest = (seen[0] as SeenDefinition).digest;
      } else if (!seen.some((entry) => entry.digest === digest)) {
        return fail(`no pod of ${ref} lists ${JSON.stringify(tool)} with the definition ${digest}; they list:\n${variants(seen, pinned)}`);
      }
      if (pinned === digest) {
        process.stdout.write(`mcppolicy ${ref}: tool ${JSON.stringify(tool)} is already pinned to ${digest}\n`);
        return;
      }
      const patch = JSON.stringify({ spec: { toolDefinitions: { pins: { [tool]: digest } } } });
      const patched = await kubectl(["patch", RESOURCE, name, "--namespace", namespace, "--type=merge", "-p", patch, "-o", "name"]);
      if (patched.code !== 0) {
        process.stderr.write(patched.stderr);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`mcppolicy ${ref}: tool ${JSON.stringify(tool)} pinned to ${digest} (${pinned === undefined ? "it had no pin" : `was ${pinned}`})\n`);
    });
}

function variants(seen: readonly SeenDefinition[], pinned: string | undefined): string {
  return seen.map((entry) => `  ${entry.digest}  ${entry.pods === 1 ? "1 pod" : `${entry.pods} pods`}${entry.digest === pinned ? "  (pinned)" : ""}`).join("\n");
}
