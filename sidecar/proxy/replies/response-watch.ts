// Responses the sidecar must look at on their way back: tools/list results (filtered by
// the policy) and initialize results (which name the session's protocol version). The
// watch lives as long as the request is unanswered, on the POST's stream and on the
// session, since a resumed stream (Last-Event-ID) can deliver the answer on a GET.

import { idKey, type JsonRpcId } from "../../jsonrpc/message.ts";

export type WatchKind = "tools/list" | "initialize";

/** Most unanswered watched requests kept per session; older ones are forgotten first. */
const MAX_WATCHED = 1_000;

export class ResponseWatch {
  readonly #watched = new Map<string, WatchKind>();

  get size(): number {
    return this.#watched.size;
  }

  add(id: JsonRpcId, kind: WatchKind): void {
    if (this.#watched.size >= MAX_WATCHED) {
      const oldest = this.#watched.keys().next();
      if (oldest.done !== true) this.#watched.delete(oldest.value);
    }
    this.#watched.set(idKey(id), kind);
  }

  has(id: JsonRpcId): boolean {
    return this.#watched.has(idKey(id));
  }

  /** The kind of a watched id, removing it (a request is answered once). */
  take(id: unknown): WatchKind | undefined {
    if (typeof id !== "string" && typeof id !== "number") return undefined;
    const key = idKey(id);
    const kind = this.#watched.get(key);
    if (kind !== undefined) this.#watched.delete(key);
    return kind;
  }
}
