// The definition server over stdio: `node test/support/mcp-definition-server-stdio.ts`.
// MCP_CHANGE_AFTER_LISTINGS=N: this process lists the changed `list_runs` after N
// listings. MCP_RECORD_FILE: every message received is appended there as one JSON line.

import { appendFileSync } from "node:fs";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createDefinitionServer } from "./mcp-definition-server.ts";
import { recordInbound } from "./mcp-feature-server.ts";

const recordFile = process.env["MCP_RECORD_FILE"];
const after = process.env["MCP_CHANGE_AFTER_LISTINGS"];
const transport = new StdioServerTransport();
recordInbound(transport, {
  record(message) {
    if (recordFile !== undefined) appendFileSync(recordFile, `${JSON.stringify({ pid: process.pid, message })}\n`);
  },
});
await createDefinitionServer({ variant: "reviewed", listings: 0, changeAfterListings: after === undefined ? undefined : Number(after), origin: "http://127.0.0.1:9" }).connect(transport);
process.stdin.once("end", () => process.exit(0));
