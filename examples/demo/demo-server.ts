// The demo's MCP server: a pretend test runner with tools shaped like the seeds'
// (MockLoop's run_test_iteration), built with the MCP SDK and speaking stdio, as most
// published servers do. The sidecar spawns one per MCP session. It enforces nothing
// itself: every rule the demo shows comes from policy.yaml.
//
// Run alone: node dist/examples/demo/demo-server.js (then type JSON-RPC on stdin).

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

interface Run {
  id: string;
  scenario: string;
  iterations: number;
  passed: number;
  startedAt: string;
}

const runs: Run[] = [];

const server = new McpServer({ name: "mcp-warden-demo", version: "0.1.0" });
const text = (value: string): { content: { type: "text"; text: string }[] } => ({ content: [{ type: "text", text: value }] });

server.registerTool(
  "run_test_iteration",
  {
    description: "Run one iteration of a load-test scenario against the mock API and record the result",
    inputSchema: { scenario: z.string().default("smoke").describe("scenario name"), iterations: z.number().int().default(1).describe("requests to send") },
  },
  ({ scenario, iterations }) => {
    const passed = Math.max(0, iterations - (scenario.includes("flaky") ? 1 : 0));
    const run: Run = { id: `r-${runs.length + 1}`, scenario, iterations, passed, startedAt: new Date().toISOString() };
    runs.push(run);
    return text(`${run.id}: scenario ${scenario}, ${passed}/${iterations} requests passed`);
  },
);

server.registerTool("list_runs", { description: "List the test runs of this session" }, () =>
  text(runs.length === 0 ? "no runs yet" : runs.map((r) => `${r.id} ${r.scenario} ${r.passed}/${r.iterations} at ${r.startedAt}`).join("\n")),
);

server.registerTool(
  "get_run_logs",
  {
    description: "Show the last log lines of a run",
    inputSchema: { run_id: z.string().describe("e.g. r-1"), lines: z.number().int().default(10).describe("how many lines") },
  },
  ({ run_id, lines }) => {
    const run = runs.find((r) => r.id === run_id);
    if (run === undefined) return { ...text(`no run ${run_id}`), isError: true };
    const log = Array.from({ length: run.iterations }, (_, i) => `${run.startedAt} ${run.id} request ${i + 1}: ${i < run.passed ? "200 OK" : "500 Internal Server Error"}`);
    return text(log.slice(-lines).join("\n"));
  },
);

server.registerTool("deploy_mock_api", { description: "Deploy the mock API to the shared staging cluster", inputSchema: { version: z.string() } }, ({ version }) =>
  text(`deployed mock API ${version} to staging`),
);

server.registerTool("reset_mock_data", { description: "Reset the shared mock API's data set (every session sees it)", inputSchema: { dataset: z.string() } }, ({ dataset }) =>
  text(`reset the mock API's data set to ${dataset}`),
);

server.registerTool("debug_delete_all_runs", { description: "Debug: delete every recorded run" }, () => {
  const count = runs.length;
  runs.length = 0;
  return text(`deleted ${count} runs`);
});

await server.connect(new StdioServerTransport());
