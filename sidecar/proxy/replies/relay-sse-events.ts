// An upstream event stream relayed to the client, in time linear in its size, holding at
// most one event the sidecar must read (bounded by --max-inspected-reply-bytes) and
// otherwise a few small buffers. Events up to PEEK_BYTES are read whole (so their ids are
// known and the answers the sidecar watches can be rewritten); a larger event streams
// through untouched, with backpressure, unless an answer the sidecar must rewrite is
// outstanding: then it is read whole up to the cap, and an event over the cap that may be
// such an answer is not relayed — its requests get an error naming the cap instead.

import type { ServerResponse } from "node:http";
import type { JsonRpcId } from "../../jsonrpc/message.ts";
import { writeWithBackpressure } from "./http-replies.ts";
import type { ScannedMessage } from "./json-message-scanner.ts";
import { SseEventStream, type SseItem } from "./sse-event-stream.ts";
import { parseSseEvent, type SseEvent } from "./sse-events.ts";

/** Events up to this size are read whole; larger ones stream unless they must be read. */
export const PEEK_BYTES = 64 * 1024;

export interface SseRelayHandlers {
  /** The most an event that must be read may hold (--max-inspected-reply-bytes). */
  readonly inspectLimit: number;
  /** Whether an answer the sidecar must rewrite is outstanding on this stream. */
  mustInspect(): boolean;
  /** Whether the answer to `id` is one the sidecar must rewrite. */
  isWatched(id: JsonRpcId): boolean;
  /** A whole event: the text to send instead, or undefined to send it as received. */
  onEvent(event: SseEvent): string | undefined;
  /** A large event relayed untouched: the messages it held. */
  onStreamed(messages: readonly ScannedMessage[]): void;
  /** A large event that was not relayed: what to send instead (errors for its requests). */
  onWithheld(messages: readonly ScannedMessage[]): string;
}

export type SseRelayEnd = "ended" | "failed" | "client-gone";

export async function relaySseEvents(body: AsyncIterable<unknown>, res: ServerResponse, handlers: SseRelayHandlers): Promise<SseRelayEnd> {
  const stream = new SseEventStream(PEEK_BYTES);
  let withholding = false;
  const handle = async (item: SseItem): Promise<void> => {
    switch (item.kind) {
      case "event": {
        const replaced = handlers.onEvent(parseSseEvent(item.raw));
        await writeWithBackpressure(res, replaced ?? item.raw);
        return;
      }
      case "large-start":
        // Over the cap and possibly an answer that must be rewritten: never sent unread.
        withholding = handlers.mustInspect() && (!item.idsComplete || item.ids.some((id) => handlers.isWatched(id)));
        if (!withholding) await writeWithBackpressure(res, item.bytes);
        return;
      case "large-bytes":
        if (!withholding) await writeWithBackpressure(res, item.bytes);
        return;
      case "large-end":
        if (withholding) {
          withholding = false;
          await writeWithBackpressure(res, handlers.onWithheld(item.messages));
          return;
        }
        await writeWithBackpressure(res, item.bytes);
        handlers.onStreamed(item.messages);
        return;
      default:
        throw new Error(`an SSE item of no known kind: ${String(item satisfies never)}`);
    }
  };
  try {
    for await (const chunk of body) {
      // While an answer must be read, events are held up to the cap; otherwise only peeked at.
      stream.bufferLimit = handlers.mustInspect() ? Math.max(PEEK_BYTES, handlers.inspectLimit) : PEEK_BYTES;
      for (const item of stream.push(chunk as Buffer)) await handle(item);
      if (res.destroyed) return "client-gone";
    }
    for (const item of stream.end()) await handle(item);
  } catch {
    return res.destroyed ? "client-gone" : "failed";
  }
  return res.destroyed ? "client-gone" : "ended";
}
