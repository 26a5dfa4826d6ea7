// `mcp-warden policy pin` against real MCP servers (the SDK's, over Streamable HTTP and
// stdio), and its output used as a policy: `policy test` decides calls by it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toolDefinitionDigest } from "../policy/index.ts";
import { CHANGED_LIST_RUNS, definitionTools, REVIEWED_LIST_RUNS, startDefinitionHttpServer, type DefinitionHttpServer } from "../test/support/mcp-definition-server.ts";
import { runPolicyCommand } from "../test/support/policy-cli.ts";

const DEFINITION_STDIO = fileURLToPath(new URL("../test/support/mcp-definition-server-stdio.ts", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "mcp-warden-pin-"));

const run = runPolicyCommand;

let server: DefinitionHttpServer;
beforeAll(async () => {
  server = await startDefinitionHttpServer();
});
afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

function expectedPins(origin: string): Record<string, string> {
  const tools = definitionTools("reviewed", origin);
  return Object.fromEntries(tools.map((tool) => [tool.name, toolDefinitionDigest(tool as unknown as Record<string, unknown>)]).sort(([a], [b]) => (a! < b! ? -1 : 1)));
}

describe("mcp-warden policy pin", () => {
  it("prints every page's tools as a toolDefinitions block, digests over what the server sent", async () => {
    const result = await run("pin", "--upstream", server.url);
    expect(result.code).toBe(0);
    const text = result.stdout.join("\n");
    expect(text.split("\n").slice(0, 2)).toEqual([
      `# Pins of the 6 tools ${server.url} lists now (mcp-warden policy pin).`,
      "# Review each definition first: a pin approves it as it is. Paste under spec:",
    ]);
    expect(load(text)).toEqual({ toolDefinitions: { mode: "pin", pins: expectedPins(server.origin) } });
    // Three pages of two.
    expect(server.received.filter((message) => (message as { method?: string }).method === "tools/list")).toHaveLength(3);
  });

  it("starts a stdio server with --upstream-command", async () => {
    const result = await run("pin", "--upstream-command", `${process.execPath} ${DEFINITION_STDIO}`);
    expect(result.code).toBe(0);
    expect(load(result.stdout.join("\n"))).toEqual({ toolDefinitions: { mode: "pin", pins: expectedPins("http://127.0.0.1:9") } });
  });

  it("its output, pasted under spec, pins: policy test allows the reviewed definition and refuses the changed one", async () => {
    const block = (await run("pin", "--upstream", server.url)).stdout.join("\n");
    const indented = block
      .split("\n")
      .map((line) => `  ${line}`)
      .join("\n");
    const policy = join(scratch, "pinned.yaml");
    writeFileSync(policy, `apiVersion: mcpwarden.dev/v1alpha1\nkind: McpPolicy\nmetadata: { name: pinned, namespace: agents }\nspec:\n  default: allow\n${indented}\n`);
    const calls = join(scratch, "calls.jsonl");
    writeFileSync(
      calls,
      [
        { tool: "list_runs", listed: REVIEWED_LIST_RUNS },
        { tool: "list_runs", listed: CHANGED_LIST_RUNS },
        { tool: "list_runs" },
      ]
        .map((line) => JSON.stringify(line))
        .join("\n"),
    );
    const result = await run("test", policy, "--calls", calls);
    expect(result.stderr).toEqual([]);
    expect(result.stdout.map((line) => JSON.parse(line) as { decision: string; reason: string })).toEqual([
      { decision: "allow", policy: "agents/pinned", rule: "default", reason: "allowed (default: allow)" },
      {
        decision: "definition_changed",
        policy: "agents/pinned",
        rule: 'toolDefinitions.pins["list_runs"]',
        reason: `tool "list_runs": the server lists definition ${toolDefinitionDigest(CHANGED_LIST_RUNS as unknown as Record<string, unknown>)}, pinned ${toolDefinitionDigest(REVIEWED_LIST_RUNS as unknown as Record<string, unknown>)}`,
      },
      expect.objectContaining({ decision: "definition_changed", reason: expect.stringContaining("no tools/list from the server has listed it") }),
    ]);
  });

  it("is a usage error without exactly one upstream, and exit 1 naming the server it could not list", async () => {
    expect(await run("pin")).toMatchObject({ code: 2, stderr: [expect.stringContaining("give exactly one of --upstream URL and --upstream-command CMD")] });
    expect(await run("pin", "--upstream", server.url, "--upstream-command", "x")).toMatchObject({ code: 2 });
    const refused = await run("pin", "--upstream", "http://127.0.0.1:9/mcp", "--timeout", "5");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toEqual([expect.stringMatching(/^error: could not list the tools of http:\/\/127\.0\.0\.1:9\/mcp: /)]);
  });
});
