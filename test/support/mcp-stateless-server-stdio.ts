// A minimal stateless (MCP 2026-07-28) server on stdio, for the stdio bridge's shared
// process: `node test/support/mcp-stateless-server-stdio.ts`. It stands in for a real
// stateless server because the installed @modelcontextprotocol/sdk has none yet: raw
// JSON-RPC, one message per line, no initialize (one is answered anyway, so the bridge's
// session path can be shown to be unchanged), nothing inferred from earlier requests.
//
//   server/discover   versions and capabilities
//   tools/list        echo, gate, ask, secret
//   tools/call echo   its arguments, this process's call counter and pid, and the
//                     request's _meta protocol version
//   tools/call gate   sends notifications/progress (message: its `label`) for the
//                     request's progressToken, then holds its answer until `waitFor`
//                     gate calls are waiting; they are answered last-come first
//   tools/call ask    asks the client for sampling and answers with what came back
//   tools/call secret meant to be denied by the test's policy
//
// Every gate and echo call also writes a notifications/message that belongs to no request.
// With MCP_RECORD_FILE set, every message received is appended there as one JSON line.

import { appendFileSync } from "node:fs";
import { createInterface } from "node:readline";

type Json = Record<string, unknown>;

const recordFile = process.env["MCP_RECORD_FILE"];
const PROTOCOL_VERSION = "2026-07-28";
let calls = 0;
const gated: { id: unknown; label: unknown }[] = [];
const asked = new Map<string, unknown>();

function send(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function textResult(id: unknown, value: object): void {
  send({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value } });
}

function metaOf(params: Json | undefined): Json {
  const meta = params?.["_meta"];
  return typeof meta === "object" && meta !== null ? (meta as Json) : {};
}

function callTool(id: unknown, params: Json | undefined): void {
  calls++;
  const name = params?.["name"];
  const args = (params?.["arguments"] ?? {}) as Json;
  const meta = metaOf(params);
  send({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: `call ${calls}` } });
  if (name === "echo" || name === "secret") {
    textResult(id, { arguments: args, calls, pid: process.pid, protocolVersion: meta["io.modelcontextprotocol/protocolVersion"] ?? null });
    return;
  }
  if (name === "gate") {
    const token = meta["progressToken"];
    if (token !== undefined) send({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: token, progress: 1, message: String(args["label"]) } });
    gated.push({ id, label: args["label"] });
    if (gated.length < Number(args["waitFor"] ?? 1)) return;
    for (const call of gated.splice(0).reverse()) textResult(call.id, { label: call.label, pid: process.pid });
    return;
  }
  if (name === "ask") {
    const askId = `ask-${calls}`;
    asked.set(askId, id);
    send({ jsonrpc: "2.0", id: askId, method: "sampling/createMessage", params: { messages: [], maxTokens: 1 } });
    return;
  }
  send({ jsonrpc: "2.0", id, error: { code: -32602, message: `unknown tool ${String(name)}` } });
}

const tools = ["echo", "gate", "ask", "secret"].map((name) => ({ name, description: name, inputSchema: { type: "object" } }));

function handle(message: Json): void {
  const { id, method } = message;
  const params = message["params"] as Json | undefined;
  if (method === undefined) {
    // A response: to a sampling request of `ask`.
    const callId = asked.get(String(id));
    if (callId === undefined) return;
    asked.delete(String(id));
    textResult(callId, { answer: message["result"] ?? message["error"] ?? null });
    return;
  }
  if (id === undefined) return;
  switch (method) {
    case "server/discover":
      send({ jsonrpc: "2.0", id, result: { supportedVersions: [PROTOCOL_VERSION], capabilities: { tools: {} }, serverInfo: { name: "stateless-test", version: "1" } } });
      return;
    case "initialize":
      send({ jsonrpc: "2.0", id, result: { protocolVersion: (params?.["protocolVersion"] as string | undefined) ?? PROTOCOL_VERSION, capabilities: { tools: {} }, serverInfo: { name: "stateless-test", version: "1" } } });
      return;
    case "tools/list":
      send({ jsonrpc: "2.0", id, result: { tools } });
      return;
    case "tools/call":
      callTool(id, params);
      return;
    default:
      send({ jsonrpc: "2.0", id, error: { code: -32601, message: `method not found: ${String(method)}` } });
  }
}

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() === "") return;
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    send({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } });
    return;
  }
  if (recordFile !== undefined) appendFileSync(recordFile, `${JSON.stringify({ pid: process.pid, message })}\n`);
  if (typeof message === "object" && message !== null && !Array.isArray(message)) handle(message as Json);
});
process.stdin.once("end", () => process.exit(0));
