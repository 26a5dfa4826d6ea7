// Loopback servers for the sidecar's boundary tests. The canary stands for every other
// host a request could be steered to (cloud metadata, other ports of the pod, the cluster
// network): any TCP connection to it is a hit, and a test asserts there is none. The
// counting upstream is an MCP server over Streamable HTTP (raw node:http, so each reply
// is exact) that records every request it gets and can answer with replies of any size,
// generated as they are sent (the test process never holds them):
//   tools/call big_json {mib}       one JSON reply whose text content is `mib` MiB
//   tools/call big_sse {mib}        an SSE reply: `mib` MiB of 64 KiB log events, then the result
//   tools/call big_sse_event {mib}  an SSE reply whose one event (the result) is `mib` MiB
//   tools/call echo {text}          the text back
//   tools/list                      two tools, or `mib` MiB of tools when the client sends x-listing-mib
// Other paths: /redirect* answers 307 to the canary; /sse is a legacy SSE stream whose
// endpoint event names the canary (a server trying to send the sidecar elsewhere); /api* answers "api" with what it received;
// /.well-known/oauth-protected-resource answers its metadata.

import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";

export interface Canary {
  readonly origin: string;
  readonly port: number;
  /** TCP connections it accepted: must stay 0. */
  readonly hits: () => number;
  close(): Promise<void>;
}

export async function startCanary(): Promise<Canary> {
  let hits = 0;
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    hits++;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
    socket.end("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 6\r\nconnection: close\r\n\r\ncanary");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly body: string;
  readonly headers: IncomingMessage["headers"];
}

export interface CountingUpstream {
  readonly origin: string;
  /** The Streamable HTTP endpoint (/mcp). */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Names of the tools/call requests that reached it. */
  calledTools(): string[];
  close(): Promise<void>;
}

const MiB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, "x");

export async function startCountingUpstream(canary: Canary): Promise<CountingUpstream> {
  const requests: RecordedRequest[] = [];
  const open = new Set<ServerResponse>();
  const server = createHttpServer((req, res) => {
    open.add(res);
    res.on("close", () => open.delete(res));
    void handle(req, res, requests, canary).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: `${origin}/mcp`,
    requests,
    calledTools: () =>
      requests.flatMap((request) => {
        try {
          const message = JSON.parse(request.body) as { method?: string; params?: { name?: string } };
          return message.method === "tools/call" && typeof message.params?.name === "string" ? [message.params.name] : [];
        } catch {
          return [];
        }
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, requests: RecordedRequest[], canary: Canary): Promise<void> {
  let body = "";
  for await (const chunk of req) body += String(chunk);
  const path = req.url ?? "/";
  requests.push({ method: req.method ?? "", path, body, headers: req.headers });
  if (path.startsWith("/redirect")) {
    res.writeHead(307, { location: `${canary.origin}/mcp/` }).end();
    return;
  }
  if (path.startsWith("/sse")) {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(`event: endpoint\ndata: ${canary.origin}/messages?session=1\n\n`);
    return;
  }
  if (path.startsWith("/.well-known/oauth-protected-resource")) {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ resource: "http://mcp.example/mcp", authorization_servers: [] }));
    return;
  }
  if (path.startsWith("/api")) {
    res.writeHead(200, { "content-type": "text/plain" }).end(`api ${req.method} ${path} ${body}`);
    return;
  }
  if (req.method !== "POST") {
    res.writeHead(405).end();
    return;
  }
  const message = JSON.parse(body) as { id?: number | string; method?: string; params?: { name?: string; arguments?: { mib?: number; text?: string } } };
  if (message.id === undefined) {
    res.writeHead(202).end();
    return;
  }
  const head = `{"jsonrpc":"2.0","id":${JSON.stringify(message.id)},"result":`;
  const json = (result: unknown): void => {
    res.writeHead(200, { "content-type": "application/json", "mcp-session-id": "counting-session" }).end(`${head}${JSON.stringify(result)}}`);
  };
  switch (message.method) {
    case "initialize":
      json({ protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "counting", version: "1" } });
      return;
    case "tools/list": {
      const mib = Number(req.headers["x-listing-mib"] ?? 0);
      if (mib === 0) {
        json({ tools: [{ name: "echo", inputSchema: { type: "object" } }, { name: "big_json", inputSchema: { type: "object" } }] });
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      await write(res, `${head}{"tools":[`);
      const tool = JSON.stringify({ name: "t", description: "d".repeat(1000), inputSchema: { type: "object" } });
      for (let written = 0, i = 0; written < mib * MiB; written += tool.length + 1, i++) await write(res, `${i === 0 ? "" : ","}${tool.replace('"t"', `"t${i}"`)}`);
      res.end("]}}");
      return;
    }
    case "tools/call":
      break;
    default:
      json({});
      return;
  }
  const mib = message.params?.arguments?.mib ?? 0;
  switch (message.params?.name) {
    case "echo":
      json({ content: [{ type: "text", text: message.params.arguments?.text ?? "" }] });
      return;
    case "big_json":
      res.writeHead(200, { "content-type": "application/json" });
      await write(res, `${head}{"content":[{"type":"text","text":"`);
      await repeatChunks(res, mib);
      res.end('"}]}}');
      return;
    case "big_sse": {
      res.writeHead(200, { "content-type": "text/event-stream" });
      const text = CHUNK.toString();
      for (let sent = 0; sent < mib * MiB; sent += CHUNK.length) {
        await write(res, `event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"${text}"}}\n\n`);
      }
      res.end(`event: message\ndata: ${head}{"content":[{"type":"text","text":"done"}]}}\n\n`);
      return;
    }
    case "big_sse_event":
      res.writeHead(200, { "content-type": "text/event-stream" });
      await write(res, `event: message\ndata: ${head}{"content":[{"type":"text","text":"`);
      await repeatChunks(res, mib);
      res.end('"}]}}\n\n');
      return;
    default:
      json({ content: [{ type: "text", text: `called ${message.params?.name ?? ""}` }] });
  }
}

async function repeatChunks(res: ServerResponse, mib: number): Promise<void> {
  for (let sent = 0; sent < mib * MiB; sent += CHUNK.length) await write(res, CHUNK);
}

function write(res: ServerResponse, data: string | Buffer): Promise<void> {
  if (res.destroyed) return Promise.reject(new Error("client gone"));
  if (res.write(data)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const drained = (): void => {
      res.off("close", gone);
      resolve();
    };
    const gone = (): void => {
      res.off("drain", drained);
      reject(new Error("client gone"));
    };
    res.once("drain", drained);
    res.once("close", gone);
  });
}
