// An MCP server over Streamable HTTP that misbehaves on purpose, written against raw
// node:http so each fault is exact. It initializes normally; tools/call then fails by
// the tool's name:
//   hang         never answers (no headers)
//   hang_sse     sends SSE headers, then nothing
//   crash_sse    sends SSE headers and a progress event, then drops the connection
//   crash_json   drops the connection before any header
//   partial_json sends JSON headers and half a body, then drops the connection
//   ok           answers

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FaultServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startFaultServer(): Promise<FaultServer> {
  const hanging = new Set<ServerResponse>();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    let text = "";
    for await (const chunk of req) text += String(chunk);
    const message = JSON.parse(text) as { id?: number; method?: string; params?: { name?: string; protocolVersion?: string } };
    if (message.id === undefined) {
      res.writeHead(202).end();
      return;
    }
    const answer = (result: unknown): void => {
      res.writeHead(200, { "content-type": "application/json", "mcp-session-id": "fault-session" }).end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }));
    };
    if (message.method === "initialize") {
      answer({ protocolVersion: message.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "fault", version: "1" } });
      return;
    }
    if (message.method !== "tools/call") {
      answer({});
      return;
    }
    switch (message.params?.name) {
      case "hang":
        hanging.add(res);
        return;
      case "hang_sse":
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.flushHeaders();
        hanging.add(res);
        return;
      case "crash_sse":
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "about to crash" } })}\n\n`);
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      case "crash_json":
        res.socket?.destroy();
        return;
      case "partial_json":
        res.writeHead(200, { "content-type": "application/json", "content-length": "200" });
        res.write('{"jsonrpc":"2.0","id":');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      default:
        answer({ content: [{ type: "text", text: "ok" }] });
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.socket?.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    async close() {
      for (const res of hanging) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
