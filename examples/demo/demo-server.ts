// The demo's MCP server (tools in demo-tools.ts), built with the MCP SDK. It speaks stdio
// by default, as most published servers do (`make demo`: the sidecar spawns one per MCP
// session), or Streamable HTTP for a pod (`make cluster`, images/demo-server.Dockerfile):
//
//   node dist/examples/demo/demo-server.js                      stdio
//   node dist/examples/demo/demo-server.js --http 0.0.0.0:8080  POST/GET/DELETE /mcp, GET /healthz
//   ... --http 0.0.0.0:8080 --stateless                          no sessions: any replica answers any request
//
// With sessions each has its own server (and runs); stateless, every request gets a new one.

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { createDemoServer } from "./demo-tools.ts";

const { values } = parseArgs({ options: { http: { type: "string" }, stateless: { type: "boolean", default: false } } });

if (values.http === undefined) {
  await createDemoServer().connect(new StdioServerTransport());
} else {
  const match = /^(.+):(\d+)$/.exec(values.http);
  if (match === null) {
    console.error(`--http: "${values.http}" is not HOST:PORT (e.g. 0.0.0.0:8080)`);
    process.exit(2);
  }
  serveHttp(match[1] as string, Number(match[2]), values.stateless === true);
}

function serveHttp(host: string, port: number, stateless: boolean): void {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const notFound = (res: ServerResponse, message: string): void =>
    void res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32001, message } }));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (path !== "/mcp") {
      res.writeHead(404).end();
      return;
    }
    if (stateless) {
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      const server = createDemoServer();
      res.once("close", () => void server.close());
      await server.connect(transport);
      await transport.handleRequest(req, res);
      return;
    }
    const sessionId = req.headers["mcp-session-id"];
    let transport = typeof sessionId === "string" ? sessions.get(sessionId) : undefined;
    if (transport === undefined) {
      if (sessionId !== undefined || req.method !== "POST") {
        notFound(res, "Session not found");
        return;
      }
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, created),
        onsessionclosed: (id) => void sessions.delete(id),
      });
      await createDemoServer().connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error(`request failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  http.listen(port, host, () => console.error(`mcp-warden demo server: Streamable HTTP on http://${host}:${port}/mcp${stateless ? " (stateless)" : ""}`));
  const stop = (): void => {
    for (const transport of sessions.values()) void transport.close();
    http.close(() => process.exit(0));
    http.closeAllConnections();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
