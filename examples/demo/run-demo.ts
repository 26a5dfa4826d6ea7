// `make demo`: the sidecar in front of the demo MCP server with policy.yaml, printing how
// to connect and one line per decision. Ctrl-C stops it (exit 0). The sidecar runs in
// this process, as `mcp-warden sidecar` would run it; the demo server is spawned by the
// sidecar's stdio bridge, one process per MCP session.

import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { packageRoot } from "../../cli/package-root.ts";
import { createSidecarLogger } from "../../sidecar/observability/sidecar-logger.ts";
import { startSidecar } from "../../sidecar/start-sidecar.ts";
import { decisionLineWriter } from "./decision-lines.ts";

const LISTEN = { host: "127.0.0.1", port: 9000 };
const ADMIN = { host: "127.0.0.1", port: 9464 };

const colour = process.stdout.isTTY === true && process.env["NO_COLOR"] === undefined;
const here = fileURLToPath(new URL(".", import.meta.url));
const serverScript = join(here, `demo-server${extname(fileURLToPath(import.meta.url))}`);
const policyPath = join(packageRoot(), "examples", "demo", "policy.yaml");

const logger = createSidecarLogger({ level: "info", destination: decisionLineWriter(process.stdout, colour) });

let sidecar: Awaited<ReturnType<typeof startSidecar>>;
try {
  sidecar = await startSidecar({
    listen: LISTEN,
    admin: ADMIN,
    upstream: { command: process.execPath, args: [serverScript] },
    policyPath,
    logger,
  });
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`[demo] could not start: ${message}${message.includes("EADDRINUSE") ? " (is another demo or sidecar running?)" : ""}`);
  process.exit(1);
}

const mcpUrl = `http://${LISTEN.host}:${LISTEN.port}/mcp`;
const initialize = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "curl", version: "0" } } });
const listRuns = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "list_runs", arguments: {} } });
console.log(`
mcp-warden demo: the sidecar enforces examples/demo/policy.yaml in front of a demo MCP server

  MCP endpoint  ${mcpUrl}   (Streamable HTTP)
  metrics       http://${ADMIN.host}:${ADMIN.port}/metrics   (also /healthz, /readyz)

Connect any MCP client to ${mcpUrl}, naming the caller in the header x-agent-id (the
policy's identity source: each name has its own rate-limit budget), for example:
  npx @modelcontextprotocol/inspector     then Transport "Streamable HTTP", URL ${mcpUrl},
                                          header x-agent-id: alice

or with curl (the first reply carries an Mcp-Session-Id header; send it back):
  curl -si ${mcpUrl} -H 'x-agent-id: alice' -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \\
    -d '${initialize}'
  curl -s ${mcpUrl} -H 'x-agent-id: alice' -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \\
    -H 'mcp-session-id: <the id>' -H 'mcp-protocol-version: 2025-06-18' -d '${listRuns}'

Things to try: list_runs (allowed); run_test_iteration 11 times within a minute (the 11th is
rate limited; another x-agent-id still has its full budget); get_run_logs with run_id "r-1" (allowed) or "../etc/passwd" (invalid arguments);
deploy_mock_api (denied: no rule names it); debug_delete_all_runs (hidden);
reset_mock_data with dataset "empty" (held for a person: in another terminal run
  npx mcp-warden approvals     then     npx mcp-warden approve <NAME>   or   npx mcp-warden deny <NAME> --reason "…"
the call waits up to 50 s, then the agent is told to retry; the same call within 5 minutes of
the approval runs once). Edit
examples/demo/policy.yaml while this runs: it is reloaded on save.

Press Ctrl-C to stop. Decisions:
`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  console.log("\n[demo] stopping…");
  sidecar.close().then(
    () => {
      console.log("[demo] stopped");
      process.exit(0);
    },
    (error: unknown) => {
      console.error(`[demo] stopping failed: ${String(error)}`);
      process.exit(1);
    },
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
