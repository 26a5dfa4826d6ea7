// Where the stdio bridge delivers what a server process writes: the reply to one POST (an
// SSE stream, or JSON collected until every request is answered), a session's standing
// stream (GET, legacy), and the legacy stream seen from one POST (with a timeout per
// request). A sink ends itself when its work is done.

import type { ServerResponse } from "node:http";
import { CONNECTION_CLOSED, errorResponse } from "../../jsonrpc/error-codes.ts";
import { idKey, type JsonRpcId } from "../../jsonrpc/message.ts";
import { SSE_HEADERS, sendJson, sseMessageEvent } from "../replies/http-replies.ts";
import type { Intake } from "../intake/intake-post.ts";
import { hasLongLivedRequest } from "../replies/long-lived-requests.ts";
import { mergeReplies } from "../replies/merge-replies.ts";

export interface Sink {
  readonly open: boolean;
  /** `answered`: the id this text answers. An empty text ends the sink (the session is over). */
  deliver(text: string, answered: JsonRpcId | undefined): void;
}

/** What a sink needs from its session. */
export interface SinkHost {
  readonly timeoutMs: number;
  /** A client stream holding more unsent bytes than this is not reading: it is ended. */
  readonly maxBufferedBytes: number;
  /** Sinks with work in flight, as fallbacks for messages no request claims. */
  readonly openSinks: Set<Sink>;
  /** Unanswered requests delivered to `sink`, by id key. */
  pendingKeysOf(sink: Sink): string[];
  /** Answers a request with a timeout error and asks the server to cancel it. */
  timeOut(key: string): void;
}

/**
 * Writes an event to a client stream. A stdio server's output is read as it comes (one
 * process may serve several streams), so a client that does not read is not waited for:
 * past `maxBufferedBytes` unsent, its stream is ended (in order or not at all).
 */
function writeEvent(res: ServerResponse, text: string, maxBufferedBytes: number): void {
  res.write(sseMessageEvent(text));
  if (res.writableLength > maxBufferedBytes) res.destroy();
}

/** A standing stream (GET, legacy). */
export function standingStreamSink(res: ServerResponse, maxBufferedBytes: number): Sink {
  let open = true;
  res.once("close", () => {
    open = false;
  });
  const sink: Sink = {
    get open() {
      return open && !res.destroyed;
    },
    deliver(text) {
      if (!sink.open) return;
      if (text === "") {
        open = false;
        res.end();
        return;
      }
      writeEvent(res, text, maxBufferedBytes);
    },
  };
  return sink;
}

/** The legacy stream for the answers of one POST, with the upstream timeout per request. */
export function timedLegacySink(host: SinkHost, standing: Sink): Sink {
  const timers = new Map<string, NodeJS.Timeout>();
  const sink: Sink = {
    get open() {
      return standing.open;
    },
    deliver: (text, answered) => {
      if (answered !== undefined) clearTimeout(timers.get(idKey(answered)));
      standing.deliver(text, answered);
    },
  };
  // The requests are registered right after the sink is made; arm their timers then.
  queueMicrotask(() => {
    for (const key of host.pendingKeysOf(sink)) {
      const timer = setTimeout(() => host.timeOut(key), host.timeoutMs);
      timer.unref();
      timers.set(key, timer);
    }
  });
  return sink;
}

/** The SSE reply to one POST: ends once every forwarded request is answered. */
export function sseReplySink(host: SinkHost, res: ServerResponse, headers: Record<string, string>, requests: number, intake: Intake): Sink {
  // Already open when it carried progress while a call was held (early-sse-reply.ts).
  if (!res.headersSent) {
    res.writeHead(200, { ...SSE_HEADERS, ...headers });
    res.flushHeaders();
  }
  for (const answer of intake.plan.answers) res.write(sseMessageEvent(JSON.stringify(answer.response)));
  let remaining = requests;
  let open = true;
  let timer: NodeJS.Timeout | undefined;
  const longLived = hasLongLivedRequest(intake.plan.forward);
  const close = (): void => {
    open = false;
    clearTimeout(timer);
    host.openSinks.delete(sink);
  };
  // Silence, not total time, is what times out: progress or logging restarts the clock.
  const arm = (): void => {
    clearTimeout(timer);
    if (longLived) return;
    timer = setTimeout(() => {
      for (const key of host.pendingKeysOf(sink)) host.timeOut(key);
    }, host.timeoutMs);
    timer.unref();
  };
  res.once("close", close);
  const sink: Sink = {
    get open() {
      return open && !res.destroyed;
    },
    deliver(text, answered) {
      if (!sink.open) return;
      if (text === "") {
        close();
        res.end();
        return;
      }
      writeEvent(res, text, host.maxBufferedBytes);
      arm();
      if (answered !== undefined && --remaining === 0) {
        close();
        res.end();
      }
    },
  };
  host.openSinks.add(sink);
  arm();
  return sink;
}

/** A JSON reply to one POST: collected, then sent once every request is answered. */
export function jsonReplySink(host: SinkHost, res: ServerResponse, headers: Record<string, string>, requests: number, intake: Intake): Sink {
  const replies: unknown[] = [];
  let remaining = requests;
  let open = true;
  const finish = (): void => {
    if (!open) return;
    open = false;
    clearTimeout(timer);
    sendJson(res, 200, mergeReplies(intake, replies), headers);
  };
  const timer = setTimeout(() => {
    for (const key of host.pendingKeysOf(sink)) host.timeOut(key);
  }, host.timeoutMs);
  timer.unref();
  res.once("close", () => {
    open = false;
    clearTimeout(timer);
  });
  const sink: Sink = {
    get open() {
      return open;
    },
    deliver(text, answered) {
      if (!open || answered === undefined) return;
      try {
        replies.push(JSON.parse(text));
      } catch {
        replies.push(errorResponse(answered, CONNECTION_CLOSED, "the MCP server's reply was not JSON"));
      }
      if (--remaining === 0) finish();
    },
  };
  return sink;
}
