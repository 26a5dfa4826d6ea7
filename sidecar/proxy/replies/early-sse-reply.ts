// The reply to a POST opened as an SSE stream before its answer exists: a call in the POST
// is held for approval, and a client that accepts text/event-stream is sent progress
// while it waits (approval-progress.ts). The stream opens with the first notification,
// with the headers the direct reply would carry that the sidecar knows (Mcp-Session-Id);
// once it is open, everything else the POST is answered with goes on it as events.

import type { ServerResponse } from "node:http";
import type { ClientNotifier } from "../intake/approval-progress.ts";
import { SSE_HEADERS, sendJson, sseMessageEvent } from "./http-replies.ts";

export class EarlySseReply implements ClientNotifier {
  readonly #res: ServerResponse;
  readonly #headers: Record<string, string>;
  #opened = false;

  private constructor(res: ServerResponse, headers: Record<string, string>) {
    this.#res = res;
    this.#headers = headers;
  }

  /** undefined when the client does not accept an event stream: it is held without progress. */
  static offer(accept: string | undefined, res: ServerResponse, headers: Record<string, string>): EarlySseReply | undefined {
    return accept?.includes("text/event-stream") === true ? new EarlySseReply(res, headers) : undefined;
  }

  get opened(): boolean {
    return this.#opened;
  }

  notify(message: object): boolean {
    const res = this.#res;
    if (res.destroyed || res.writableEnded) return false;
    if (!this.#opened) {
      if (res.headersSent) return false;
      res.writeHead(200, { ...SSE_HEADERS, ...this.#headers });
      res.flushHeaders();
      this.#opened = true;
    }
    res.write(sseMessageEvent(JSON.stringify(message)));
    return true;
  }

  /** Writes a reply (one message, a batch's messages, or none) as events and ends the stream. */
  finish(reply: unknown): void {
    const res = this.#res;
    if (res.writableEnded) return;
    if (!res.destroyed) for (const message of Array.isArray(reply) ? reply : reply === undefined ? [] : [reply]) res.write(sseMessageEvent(JSON.stringify(message)));
    res.end();
  }
}

/** The sidecar's own JSON reply to a POST, or its messages as events when `early` opened the stream. */
export function sendReply(res: ServerResponse, early: EarlySseReply | undefined, status: number, reply: unknown, headers: Record<string, string>): void {
  if (early?.opened === true) early.finish(reply);
  else sendJson(res, status, reply, headers);
}
