// Requests whose reply stream is meant to stay open with long silences: MCP 2026-07-28's
// subscriptions/listen replaces the GET stream with a POST whose SSE reply carries change
// notifications until the client closes it. The upstream timeout (a server that stopped
// answering) must not end those.

import type { JsonRpcMessage } from "../../jsonrpc/message.ts";

const LONG_LIVED_METHODS: ReadonlySet<string> = new Set(["subscriptions/listen"]);

export function hasLongLivedRequest(messages: readonly JsonRpcMessage[]): boolean {
  return messages.some((message) => message.kind === "request" && LONG_LIVED_METHODS.has(message.method));
}
