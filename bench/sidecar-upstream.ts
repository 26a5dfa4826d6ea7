// The benchmark's upstream: the fastest MCP server we can write — Streamable HTTP,
// stateless, JSON replies, no SDK — so that what is measured is what sits in front of it.
// Prints its port, then serves until SIGTERM.
//
// Run alone: node bench/sidecar-upstream.ts [port]

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exitWithParent } from "./bench-process.ts";

exitWithParent();

const TOOLS = [
  { name: "run_test_iteration", description: "bench tool", inputSchema: { type: "object", properties: { scenario: { type: "string" }, iterations: { type: "integer" } } } },
  { name: "list_runs", description: "bench tool", inputSchema: { type: "object" } },
];

function reply(id: unknown, method: string): unknown {
  switch (method) {
    case "initialize":
      return { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "bench-upstream", version: "0" } };
    case "tools/list":
      return { tools: TOOLS };
    case "tools/call":
      return { content: [{ type: "text", text: "ok" }] };
    default:
      return id === undefined ? undefined : {};
  }
}

const server = createServer((req, res) => {
  if (req.method !== "POST") {
    res.writeHead(405, { allow: "POST" }).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    let message: { id?: unknown; method?: string };
    try {
      message = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id?: unknown; method?: string };
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (message.id === undefined) {
      res.writeHead(202).end();
      return;
    }
    const body = JSON.stringify({ jsonrpc: "2.0", id: message.id, result: reply(message.id, message.method ?? "") });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
// Exit outright: stdin, held open by exitWithParent, would keep the process alive.
process.on("SIGTERM", () => {
  server.closeAllConnections();
  process.exit(0);
});
