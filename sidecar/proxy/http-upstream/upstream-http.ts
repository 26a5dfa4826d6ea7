// The HTTP side of an HTTP upstream: one keep-alive Agent, the headers that cross
// (end-to-end ones only), and replies the sidecar relays without reading: streamed with
// backpressure, never held whole, a redirect never relayed.

import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { readWholeBody, type UpstreamAgent, type UpstreamBody, type UpstreamResponse } from "./upstream-agent.ts";
import { CONNECTION_CLOSED, INTERNAL_ERROR } from "../../jsonrpc/error-codes.ts";
import { sendJsonRpcError, writeWithBackpressure } from "../replies/http-replies.ts";
import type { ProxyLogger } from "../options.ts";
import { isRedirect, redirectMessage, type RedirectLog } from "./upstream-redirect.ts";
import type { UpstreamTarget } from "./upstream-endpoints.ts";

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

/** What relaying a reply needs to know. */
export interface RelayContext {
  readonly logger: ProxyLogger;
  readonly redirects: RedirectLog;
  /** The upstream may stay silent this long mid-body before the relay gives up. */
  readonly idleTimeoutMs: number;
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

export function clientResponseHeaders(headers: IncomingHttpHeaders, keepLength: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (RESPONSE_HEADERS_DROPPED.has(name) && !(keepLength && name === "content-length")) continue;
    out[name] = value;
  }
  return out;
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function mediaType(headers: IncomingHttpHeaders): string {
  return (headerValue(headers, "content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** A redirect answered for the client (502, a JSON-RPC error for `id`); true when `upstream` was one. */
export function refuseRedirect(upstream: UpstreamResponse, res: ServerResponse, context: RelayContext, id: string | number | null = null): boolean {
  if (!isRedirect(upstream.statusCode)) return false;
  context.redirects.note(context.logger, upstream.statusCode, upstream.headers["location"]);
  discard(upstream.body);
  sendJsonRpcError(res, 502, INTERNAL_ERROR, redirectMessage(upstream.statusCode), id);
  return true;
}

/** The upstream's response as it is: status, headers, body streamed. A redirect is refused instead. */
export async function relayUntouched(upstream: UpstreamResponse, res: ServerResponse, context: RelayContext): Promise<void> {
  if (res.headersSent || res.destroyed) {
    discard(upstream.body);
    return;
  }
  if (refuseRedirect(upstream, res, context)) return;
  res.writeHead(upstream.statusCode, clientResponseHeaders(upstream.headers, true));
  if (!(await streamBody(upstream.body, res, context.idleTimeoutMs))) {
    // Either side went away mid-body, or the upstream stalled: the client sees a truncated
    // response, as it would talking to the server directly. Nothing to decide here.
    if (!res.destroyed) res.destroy();
    return;
  }
  res.end();
}

/**
 * Copies a body to the client chunk by chunk, waiting for the client to drain (memory
 * stays at a chunk or two whatever the size). `head`: chunks already read from it, sent
 * first. `transform` may rewrite each chunk. False when the body failed, the client left,
 * or the upstream stayed silent `idleTimeoutMs`.
 */
export async function streamBody(
  body: UpstreamBody,
  res: ServerResponse,
  idleTimeoutMs: number,
  options: { head?: readonly Buffer[]; rest?: AsyncIterator<unknown>; transform?: (chunk: Buffer) => Buffer } = {},
): Promise<boolean> {
  const transform = options.transform ?? ((chunk: Buffer) => chunk);
  for (const chunk of options.head ?? []) await writeWithBackpressure(res, transform(chunk));
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => body.destroy(), idleTimeoutMs);
    timer.unref();
  };
  arm();
  const iterator = options.rest ?? body[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return true;
      arm();
      await writeWithBackpressure(res, transform(next.value as Buffer));
      if (res.destroyed) {
        discard(body);
        return false;
      }
    }
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The first bytes of a body: all of it when it ends within `limit` (most replies), else
 * what was read (just over the limit) and the iterator to read the rest from.
 */
export async function peekBody(
  body: UpstreamBody,
  limit: number,
  declaredLength?: string | string[],
): Promise<{ readonly kind: "whole"; readonly bytes: Buffer } | { readonly kind: "more"; readonly head: Buffer[]; readonly rest: AsyncIterator<unknown> } | { readonly kind: "failed" }> {
  // A declared length within the limit is read in one call, without an async iterator
  // (the common small JSON reply; the read fails if fewer bytes arrive).
  const declared = typeof declaredLength === "string" ? Number(declaredLength) : Number.NaN;
  if (Number.isSafeInteger(declared) && declared <= limit) {
    try {
      return { kind: "whole", bytes: await readWholeBody(body) };
    } catch {
      return { kind: "failed" };
    }
  }
  const iterator = body[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return { kind: "whole", bytes: head.length === 1 ? (head[0] as Buffer) : Buffer.concat(head, size) };
      const chunk = next.value as Buffer;
      head.push(chunk);
      size += chunk.length;
      if (size > limit) return { kind: "more", head, rest: iterator };
    }
  } catch {
    return { kind: "failed" };
  }
}

export type BodyRead = { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly reason: "too_large" | "failed" };

/** The whole body, when it fits `maxBytes` (a reply the sidecar must read). */
export async function readUpstreamBody(body: UpstreamBody, maxBytes: number, declaredLength?: string | string[]): Promise<BodyRead> {
  const declared = typeof declaredLength === "string" ? Number(declaredLength) : Number.NaN;
  if (Number.isSafeInteger(declared) && declared > maxBytes) {
    discard(body);
    return { ok: false, reason: "too_large" };
  }
  // A declared length within the limit is read in one call, without an async iterator
  // (the common small JSON reply; the read fails if fewer bytes arrive).
  if (Number.isSafeInteger(declared)) {
    try {
      return { ok: true, bytes: await readWholeBody(body) };
    } catch {
      return { ok: false, reason: "failed" };
    }
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const bytes = chunk as Buffer;
      size += bytes.length;
      if (size > maxBytes) {
        discard(body);
        return { ok: false, reason: "too_large" };
      }
      chunks.push(bytes);
    }
  } catch {
    return { ok: false, reason: "failed" };
  }
  return { ok: true, bytes: Buffer.concat(chunks, size) };
}

/** Drops a body unread (the abort error that may follow is heard by the upstream agent, never thrown). */
export function discard(body: UpstreamBody): void {
  body.destroy();
}

/**
 * Opens an upstream GET event stream (Streamable HTTP's GET, the legacy /sse). Undefined
 * when the client's reply is already written: the upstream could not be reached (502 with
 * a JSON-RPC error), redirected (502), or answered with something other than an event
 * stream (relayed as is).
 */
export async function openUpstreamEventStream(
  agent: UpstreamAgent,
  target: UpstreamTarget,
  req: IncomingMessage,
  res: ServerResponse,
  options: { signal: AbortSignal; headersTimeoutMs: number; context: RelayContext },
): Promise<UpstreamResponse | undefined> {
  let upstream: UpstreamResponse;
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
    options.context.logger.warn({ err: error }, "the upstream could not be reached");
    sendJsonRpcError(res, 502, CONNECTION_CLOSED, "the MCP server could not be reached");
    return undefined;
  }
  if (upstream.statusCode >= 300 || mediaType(upstream.headers) !== "text/event-stream") {
    await relayUntouched(upstream, res, options.context);
    return undefined;
  }
  return upstream;
}

