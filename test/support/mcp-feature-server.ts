// An MCP server built with the SDK that exercises every feature the sidecar must pass
// through (tools with progress and cancellation, sampling, elicitation, roots, logging,
// resources with subscriptions, prompts, completions, list_changed, paginated
// tools/list) and records every message it receives: the "upstream recorder" that
// proves a denied call never arrived. Served over Streamable HTTP and the legacy
// HTTP+SSE transport by startFeatureHttpServer, or over stdio by
// mcp-feature-server-stdio.ts.

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { completable } from "@modelcontextprotocol/sdk/server/completable.js";
import type { EventStore } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  ElicitResultSchema,
  ListToolsRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type JSONRPCMessage,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

/** Tools listed per tools/list page: small, so a client needs several pages. */
const TOOLS_PAGE_SIZE = 4;

export interface MessageRecorder {
  record(message: JSONRPCMessage): void;
}

/** Every tools/call the server received, by tool name. */
export function calledTools(messages: readonly JSONRPCMessage[]): string[] {
  const names: string[] = [];
  for (const message of messages) {
    const record = message as { method?: unknown; params?: { name?: unknown } };
    if (record.method === "tools/call" && typeof record.params?.name === "string") names.push(record.params.name);
  }
  return names;
}

const PLAIN_TOOLS = ["list_runs", "run_test_iteration", "delete_all", "debug_dump", "Delete_All_Case", "deploy"];

export function createFeatureServer(): McpServer {
  const server = new McpServer(
    { name: "feature-server", version: "1.0.0" },
    { capabilities: { logging: {}, resources: { subscribe: true, listChanged: true }, tools: { listChanged: true }, prompts: {}, completions: {} }, instructions: "a test server" },
  );
  const subscriptions = new Set<string>();

  server.registerTool("echo", { description: "echoes its text", inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: "text", text }],
  }));
  for (const name of PLAIN_TOOLS) {
    server.registerTool(name, { description: `the ${name} tool`, inputSchema: { target: z.string().optional(), iterations: z.number().optional() } }, async (args) => ({
      content: [{ type: "text", text: `${name} ran with ${JSON.stringify(args)}` }],
    }));
  }
  server.registerTool("progress", { description: "reports progress, then answers", inputSchema: { steps: z.number() } }, async ({ steps }, extra) => {
    const token = extra._meta?.progressToken;
    for (let step = 1; step <= steps; step++) {
      if (token !== undefined) await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: step, total: steps, message: `step ${step}` } });
    }
    // The SDK client handles a notification a tick after a response that arrives in the
    // same read, and drops progress for a request already answered: a pause keeps the
    // transcript from depending on how the bytes were chunked.
    await new Promise((resolve) => setTimeout(resolve, 30));
    return { content: [{ type: "text", text: `done in ${steps} steps` }] };
  });
  // MCP_SLOW_TOOL_MS lets a fault test make "slow" outlast a generous upstream timeout.
  const slowMs = Number(process.env.MCP_SLOW_TOOL_MS ?? 2_000);
  server.registerTool("slow", { description: "waits until cancelled or 2 s pass", inputSchema: {} }, async (_args, extra) => {
    const token = extra._meta?.progressToken;
    if (token !== undefined) await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: 0 } });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, slowMs);
      extra.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return { content: [{ type: "text", text: extra.signal.aborted ? "cancelled" : "finished" }] };
  });
  server.registerTool("sample", { description: "asks the client's model", inputSchema: { prompt: z.string() } }, async ({ prompt }) => {
    const answer = await server.server.createMessage({ messages: [{ role: "user", content: { type: "text", text: prompt } }], maxTokens: 10 });
    return { content: [{ type: "text", text: `model said: ${JSON.stringify(answer.content)}` }] };
  });
  server.registerTool("elicit", { description: "asks the user", inputSchema: {} }, async () => {
    const answer = await server.server.request(
      { method: "elicitation/create", params: { message: "your name?", requestedSchema: { type: "object", properties: { name: { type: "string" } } } } },
      ElicitResultSchema,
    );
    return { content: [{ type: "text", text: `user said: ${JSON.stringify(answer)}` }] };
  });
  server.registerTool("roots", { description: "lists the client's roots", inputSchema: {} }, async () => {
    const roots = await server.server.listRoots();
    return { content: [{ type: "text", text: JSON.stringify(roots.roots) }] };
  });
  server.registerTool("log", { description: "logs at every level", inputSchema: {} }, async (_args, extra) => {
    for (const level of ["debug", "info", "warning", "error"] as const) {
      await server.server.sendLoggingMessage({ level, logger: "feature", data: `a ${level} line` }, extra.sessionId);
    }
    return { content: [{ type: "text", text: "logged" }] };
  });
  server.registerTool("touch", { description: "updates a subscribed resource", inputSchema: {} }, async () => {
    for (const uri of subscriptions) await server.server.sendResourceUpdated({ uri });
    return { content: [{ type: "text", text: `touched ${subscriptions.size}` }] };
  });
  server.registerTool("add_tool", { description: "adds a tool (tools list_changed)", inputSchema: { name: z.string() } }, async ({ name }) => {
    server.registerTool(name, { description: "added at run time", inputSchema: {} }, async () => ({ content: [{ type: "text", text: `${name} here` }] }));
    overrideToolsList(server);
    return { content: [{ type: "text", text: `added ${name}` }] };
  });

  server.registerResource("readme", "file:///readme.txt", { description: "a text file", mimeType: "text/plain" }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: "text/plain", text: "hello from the readme" }],
  }));
  server.registerResource(
    "run",
    new ResourceTemplate("runs://{id}", { list: undefined, complete: { id: (value) => ["run-1", "run-2", "other"].filter((id) => id.startsWith(value)) } }),
    { description: "a run by id" },
    async (uri, variables) => ({ contents: [{ uri: uri.href, text: `run ${String(variables["id"])}` }] }),
  );
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    subscriptions.add(request.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });
  server.registerPrompt(
    "greet",
    { description: "a greeting", argsSchema: { name: completable(z.string(), (value) => ["alice", "albert", "bob"].filter((name) => name.startsWith(value))) } },
    ({ name }) => ({ messages: [{ role: "user", content: { type: "text", text: `hello ${name}` } }] }),
  );
  overrideToolsList(server);
  return server;
}

/** Replaces the SDK's single-page tools/list with a paginated one over the same tools. */
function overrideToolsList(server: McpServer): void {
  const registered = (server as unknown as { _registeredTools: Record<string, { description?: string; enabled: boolean }> })._registeredTools;
  server.server.setRequestHandler(ListToolsRequestSchema, async (request) => {
    const tools: Tool[] = Object.entries(registered)
      .filter(([, tool]) => tool.enabled)
      .map(([name, tool]) => ({ name, description: tool.description, inputSchema: { type: "object" } }));
    const start = request.params?.cursor === undefined ? 0 : Number(request.params.cursor);
    const page = tools.slice(start, start + TOOLS_PAGE_SIZE);
    const next = start + TOOLS_PAGE_SIZE < tools.length ? String(start + TOOLS_PAGE_SIZE) : undefined;
    return next === undefined ? { tools: page } : { tools: page, nextCursor: next };
  });
}

/** Records what the server receives, before the server sees it. */
export function recordInbound(transport: Transport, recorder: MessageRecorder): void {
  const start = transport.start.bind(transport);
  transport.start = async () => {
    await start();
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      recorder.record(message);
      deliver?.(message, extra);
    };
  };
}

class MemoryEventStore implements EventStore {
  readonly #events: { id: string; stream: string; message: JSONRPCMessage }[] = [];
  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}_${this.#events.length}`;
    this.#events.push({ id, stream: streamId, message });
    return id;
  }
  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.#events.find((event) => event.id === eventId)?.stream;
  }
  async replayEventsAfter(lastEventId: string, { send }: { send: (id: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const index = this.#events.findIndex((event) => event.id === lastEventId);
    const stream = this.#events[index]?.stream ?? "";
    for (const event of this.#events.slice(index + 1)) {
      if (event.stream === stream && Object.keys(event.message).length > 0) await send(event.id, event.message);
    }
    return stream;
  }
}

export interface FeatureHttpServer {
  readonly url: string;
  readonly port: number;
  readonly received: JSONRPCMessage[];
  /** Responds to Streamable HTTP POSTs with JSON instead of SSE. */
  jsonResponses: boolean;
  close(): Promise<void>;
}

/** Streamable HTTP at /mcp (sessions, resumability, retry) and the legacy transport at /sse + /message. */
export async function startFeatureHttpServer(): Promise<FeatureHttpServer> {
  const received: JSONRPCMessage[] = [];
  const recorder: MessageRecorder = { record: (message) => received.push(message) };
  const streamable = new Map<string, StreamableHTTPServerTransport>();
  const legacy = new Map<string, SSEServerTransport>();
  const state = { jsonResponses: false };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/mcp") {
      const sessionId = req.headers["mcp-session-id"] as string | undefined;
      let transport = sessionId === undefined ? undefined : streamable.get(sessionId);
      if (transport === undefined) {
        if (sessionId !== undefined || req.method !== "POST") {
          res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "Session not found" } }));
          return;
        }
        const created = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          eventStore: new MemoryEventStore(),
          retryInterval: 500,
          enableJsonResponse: state.jsonResponses,
          onsessioninitialized: (id) => {
            streamable.set(id, created);
          },
          onsessionclosed: (id) => {
            streamable.delete(id);
          },
        });
        recordInbound(created, recorder);
        await createFeatureServer().connect(created);
        transport = created;
      }
      await transport.handleRequest(req, res);
      return;
    }
    if (url.pathname === "/sse" && req.method === "GET") {
      const transport = new SSEServerTransport("/message", res);
      legacy.set(transport.sessionId, transport);
      res.once("close", () => legacy.delete(transport.sessionId));
      recordInbound(transport, recorder);
      await createFeatureServer().connect(transport);
      return;
    }
    if (url.pathname === "/message" && req.method === "POST") {
      const transport = legacy.get(url.searchParams.get("sessionId") ?? "");
      if (transport === undefined) {
        res.writeHead(404).end("no session");
        return;
      }
      await transport.handlePostMessage(req, res);
      return;
    }
    res.writeHead(404).end();
  };

  const http: HttpServer = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    received,
    get jsonResponses() {
      return state.jsonResponses;
    },
    set jsonResponses(value: boolean) {
      state.jsonResponses = value;
    },
    async close() {
      for (const transport of streamable.values()) await transport.close().catch(() => undefined);
      for (const transport of legacy.values()) await transport.close().catch(() => undefined);
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
