// The feature server over stdio, for the sidecar's stdio bridge: `node
// test/support/mcp-feature-server-stdio.ts`. With MCP_RECORD_FILE set, every message it
// receives is appended to that file as one JSON line (the recorder of a process the test
// does not own). MCP_CRASH_ON_TOOL names a tool whose call makes the process exit at once.

import { appendFileSync } from "node:fs";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createFeatureServer, recordInbound } from "./mcp-feature-server.ts";

const recordFile = process.env["MCP_RECORD_FILE"];
const crashOn = process.env["MCP_CRASH_ON_TOOL"];
const transport = new StdioServerTransport();
recordInbound(transport, {
  record(message) {
    if (recordFile !== undefined) appendFileSync(recordFile, `${JSON.stringify({ pid: process.pid, message })}\n`);
    const call = message as { method?: string; params?: { name?: string } };
    if (crashOn !== undefined && call.method === "tools/call" && call.params?.name === crashOn) process.exit(3);
  },
});
await createFeatureServer().connect(transport);
process.stdin.once("end", () => process.exit(0));
