// Writing replies to the client: JSON bodies and SSE events. Every write tolerates a
// client that already went away (a reply to nobody is dropped, never thrown).

import type { ServerResponse } from "node:http";
import { errorResponse } from "../../jsonrpc/error-codes.ts";
import type { JsonRpcId } from "../../jsonrpc/message.ts";

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) {
    if (!res.writableEnded) res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}

export function sendJsonRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  id: JsonRpcId | null = null,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, errorResponse(id, code, message), headers);
}

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
};

/** One SSE `message` event carrying a JSON-RPC message. */
export function sseMessageEvent(data: string): string {
  return `event: message\ndata: ${data}\n\n`;
}

/** Writes and resolves once the client can take more (backpressure), or at once if it is gone. */
export function writeWithBackpressure(res: ServerResponse, text: string | Uint8Array): Promise<void> | undefined {
  if (res.destroyed || res.writableEnded) return undefined;
  if (res.write(text)) return undefined;
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}
