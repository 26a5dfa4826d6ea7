// The demo's tools: a pretend test runner with tools shaped like the seeds' (MockLoop's
// run_test_iteration). It enforces nothing itself: every rule the demo shows comes from
// the policy. Each call it runs is logged to stderr (`ran TOOL`), so the sidecar's
// refusals can be told from calls that reached the server.

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";

interface Run {
  id: string;
  scenario: string;
  iterations: number;
  passed: number;
  startedAt: string;
}

type ToolResult = { content: { type: "text"; text: string }[]; isError?: boolean };

const text = (value: string): ToolResult => ({ content: [{ type: "text", text: value }] });

/** A new server with its own runs (one per MCP session, as the stdio bridge's process per session has). */
export function createDemoServer(): McpServer {
  const runs: Run[] = [];
  const server = new McpServer({ name: "mcp-warden-demo", version: "0.1.0" });
  const ran = (tool: string): void => void process.stderr.write(`ran ${tool}\n`);

  server.registerTool(
    "run_test_iteration",
    {
      description: "Run one iteration of a load-test scenario against the mock API and record the result",
      inputSchema: { scenario: z.string().default("smoke").describe("scenario name"), iterations: z.number().int().default(1).describe("requests to send") },
    },
    ({ scenario, iterations }) => {
      ran("run_test_iteration");
      const passed = Math.max(0, iterations - (scenario.includes("flaky") ? 1 : 0));
      const run: Run = { id: `r-${runs.length + 1}`, scenario, iterations, passed, startedAt: new Date().toISOString() };
      runs.push(run);
      return text(`${run.id}: scenario ${scenario}, ${passed}/${iterations} requests passed`);
    },
  );

  server.registerTool("list_runs", { description: "List the test runs of this session" }, () => {
    ran("list_runs");
    return text(runs.length === 0 ? "no runs yet" : runs.map((r) => `${r.id} ${r.scenario} ${r.passed}/${r.iterations} at ${r.startedAt}`).join("\n"));
  });

  server.registerTool(
    "get_run_logs",
    {
      description: "Show the last log lines of a run",
      inputSchema: { run_id: z.string().describe("e.g. r-1"), lines: z.number().int().default(10).describe("how many lines") },
    },
    ({ run_id, lines }) => {
      ran("get_run_logs");
      const run = runs.find((r) => r.id === run_id);
      if (run === undefined) return { ...text(`no run ${run_id}`), isError: true };
      const log = Array.from({ length: run.iterations }, (_, i) => `${run.startedAt} ${run.id} request ${i + 1}: ${i < run.passed ? "200 OK" : "500 Internal Server Error"}`);
      return text(log.slice(-lines).join("\n"));
    },
  );

  server.registerTool("deploy_mock_api", { description: "Deploy the mock API to the shared staging cluster", inputSchema: { version: z.string() } }, ({ version }) => {
    ran("deploy_mock_api");
    return text(`deployed mock API ${version} to staging`);
  });

  server.registerTool("reset_mock_data", { description: "Reset the shared mock API's data set (every session sees it)", inputSchema: { dataset: z.string() } }, ({ dataset }) => {
    ran("reset_mock_data");
    return text(`reset the mock API's data set to ${dataset}`);
  });

  server.registerTool("debug_delete_all_runs", { description: "Debug: delete every recorded run" }, () => {
    ran("debug_delete_all_runs");
    const count = runs.length;
    runs.length = 0;
    return text(`deleted ${count} runs`);
  });

  return server;
}
