// The HTTP side of an HTTP upstream: one keep-alive undici Agent, the headers that cross
// (end-to-end ones only), and relaying a response the sidecar does not need to read.

import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { Agent, type Dispatcher } from "undici";
import { CONNECTION_CLOSED } from "../../jsonrpc/error-codes.ts";
import { sendJsonRpcError } from "../replies/http-replies.ts";
import type { ProxyLogger } from "../options.ts";

// Hop-by-hop headers (RFC 9110 §7.6.1) and those the sidecar sets itself.
const REQUEST_HEADERS_DROPPED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
  // The forwarded body is the sidecar's own serialisation, never encoded.
  "content-encoding",
  // Asked for identity: the sidecar reads SSE and JSON replies, and compressed ones it cannot.
  "accept-encoding",
  "expect",
]);
const RESPONSE_HEADERS_DROPPED = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length"]);

export function createUpstreamAgent(): Agent {
  return new Agent({ keepAliveTimeout: 30_000, connections: 256, pipelining: 1 });
}

export function upstreamRequestHeaders(headers: IncomingHttpHeaders, overrides: Record<string, string> = {}): Record<string, string | string[]> {
  // for…in rather than Object.entries: no [name, value] array per header, on every call.
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || REQUEST_HEADERS_DROPPED.has(name)) continue;
    out[name] = value;
  }
  out["accept-encoding"] = "identity";
  for (const name in overrides) out[name] = overrides[name] as string;
  return out;
}

export function clientResponseHeaders(headers: Dispatcher.ResponseData["headers"], keepLength: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (RESPONSE_HEADERS_DROPPED.has(name) && !(keepLength && name === "content-length")) continue;
    out[name] = value;
  }
  return out;
}

export function headerValue(headers: Dispatcher.ResponseData["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function mediaType(headers: Dispatcher.ResponseData["headers"]): string {
  return (headerValue(headers, "content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** The upstream's response as it is: status, headers, body streamed. */
export async function relayUntouched(upstream: Dispatcher.ResponseData, res: ServerResponse): Promise<void> {
  if (res.headersSent || res.destroyed) {
    upstream.body.destroy();
    return;
  }
  res.writeHead(upstream.statusCode, clientResponseHeaders(upstream.headers, true));
  try {
    await pipeline(upstream.body, res);
  } catch {
    // Either side went away mid-body; the client sees a truncated response, as it would
    // talking to the server directly. Nothing to decide here.
    if (!res.destroyed) res.destroy();
  }
}

/** The whole body, or undefined when it exceeds `maxBytes`, fails, or outlasts `signal`. */
export async function readUpstreamBody(
  body: Dispatcher.ResponseData["body"],
  maxBytes: number,
  declaredLength?: string | string[],
): Promise<Buffer | undefined> {
  // A declared length within the limit is read in one call, without an async iterator
  // (the common small JSON reply; undici fails the read if fewer bytes arrive).
  const declared = typeof declaredLength === "string" ? Number(declaredLength) : Number.NaN;
  if (Number.isSafeInteger(declared) && declared <= maxBytes) {
    try {
      return Buffer.from(await body.arrayBuffer());
    } catch {
      return undefined;
    }
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const bytes = chunk as Buffer;
      size += bytes.length;
      if (size > maxBytes) {
        body.destroy();
        return undefined;
      }
      chunks.push(bytes);
    }
  } catch {
    return undefined;
  }
  return Buffer.concat(chunks, size);
}

/**
 * Opens an upstream GET event stream (Streamable HTTP's GET, the legacy /sse). Undefined
 * when the client's reply is already written: the upstream could not be reached (502 with
 * a JSON-RPC error) or answered with something other than an event stream (relayed as is).
 */
export async function openUpstreamEventStream(
  agent: Agent,
  target: { origin: string; path: string },
  req: IncomingMessage,
  res: ServerResponse,
  options: { signal: AbortSignal; headersTimeoutMs: number; logger: ProxyLogger },
): Promise<Dispatcher.ResponseData | undefined> {
  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await agent.request({
      ...target,
      method: "GET",
      headers: upstreamRequestHeaders(req.headers),
      signal: options.signal,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: 0,
    });
  } catch (error) {
    options.logger.warn({ err: error }, "the upstream could not be reached");
    sendJsonRpcError(res, 502, CONNECTION_CLOSED, "the MCP server could not be reached");
    return undefined;
  }
  if (upstream.statusCode >= 300 || mediaType(upstream.headers) !== "text/event-stream") {
    await relayUntouched(upstream, res);
    return undefined;
  }
  return upstream;
}
