// A message from the server on its way to the client. Almost all pass untouched (the
// original text); the sidecar rewrites only the results of watched requests: tools/list
// is filtered by the policy, and an initialize result is read for the negotiated
// protocol version. Every tools/list page is filtered, whatever stream brings it.

import { filterToolsList, type DecisionTable } from "../../../policy/index.ts";
import { INTERNAL_ERROR, errorResponse } from "../../jsonrpc/error-codes.ts";
import { isJsonObject, type JsonObject, type JsonRpcId } from "../../jsonrpc/message.ts";
import { parseStrictJson } from "../../jsonrpc/strict-json.ts";
import type { KnownTools } from "./known-tools.ts";
import type { ResponseWatch } from "./response-watch.ts";

export interface ServerMessageContext {
  /** Checked first (this stream's requests), then the session's. */
  readonly watches: readonly ResponseWatch[];
  readonly table: () => DecisionTable | undefined;
  readonly knownTools: KnownTools;
  readonly maxDepth: number;
  onInitialized(protocolVersion: string): void;
}

export interface ServerMessageOutcome {
  /** The text to send: the original unless it was rewritten. */
  readonly text: string;
  /** Ids of responses in it (to know which requests were answered). */
  readonly responseIds: readonly JsonRpcId[];
}

/** A session whose server messages the sidecar reads: its watch, and its negotiated version. */
export interface WatchedSession {
  readonly watch: ResponseWatch;
  protocolVersion: string | undefined;
}

/** The context for server messages on a session's own stream (legacy SSE, stdio). */
export function sessionMessageContext(
  core: { table(): DecisionTable | undefined; readonly knownTools: KnownTools; readonly limits: { readonly maxDepth: number } },
  session: WatchedSession,
): ServerMessageContext {
  return {
    watches: [session.watch],
    table: () => core.table(),
    knownTools: core.knownTools,
    maxDepth: core.limits.maxDepth,
    onInitialized: (version) => {
      session.protocolVersion = version;
    },
  };
}

const NO_IDS: readonly JsonRpcId[] = Object.freeze([]);

/**
 * The message as it should reach the client. `needIds`: report the ids of responses in it
 * (the caller tracks which requests were answered); without it, a message that no watch
 * could concern is not even parsed, the common case on the hot path.
 */
export function processServerMessage(text: string, context: ServerMessageContext, needIds = true): ServerMessageOutcome {
  if (!needIds && context.watches.every((watch) => watch.size === 0)) return { text, responseIds: NO_IDS };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { text, responseIds: [] };
  }
  if (Array.isArray(value)) {
    let changed = false;
    const ids: JsonRpcId[] = [];
    const out = value.map((element: unknown) => {
      const result = processValue(element, context, () => parseStrictJson(JSON.stringify(element), context.maxDepth).ok);
      if (result.id !== undefined) ids.push(result.id);
      if (result.value !== element) changed = true;
      return result.value;
    });
    return { text: changed ? JSON.stringify(out) : text, responseIds: ids };
  }
  const result = processValue(value, context, () => parseStrictJson(text, context.maxDepth).ok);
  return { text: result.value === value ? text : JSON.stringify(result.value), responseIds: result.id === undefined ? [] : [result.id] };
}

function processValue(value: unknown, context: ServerMessageContext, strictOk: () => boolean): { value: unknown; id: JsonRpcId | undefined } {
  if (!isJsonObject(value) || Object.hasOwn(value, "method")) return { value, id: undefined };
  const id = value["id"];
  if (typeof id !== "string" && typeof id !== "number") return { value, id: undefined };
  let kind;
  for (const watch of context.watches) kind ??= watch.take(id);
  if (kind === "initialize") {
    const version = isJsonObject(value["result"]) ? value["result"]["protocolVersion"] : undefined;
    if (typeof version === "string") context.onInitialized(version);
    return { value, id };
  }
  if (kind !== "tools/list" || !Object.hasOwn(value, "result")) return { value, id };
  // The list decides what the agent believes exists: it must read one way only.
  if (!strictOk()) return { value: unfilterable(id, "it is not strict JSON (duplicate keys?)"), id };
  const result = value["result"];
  const tools = isJsonObject(result) ? result["tools"] : undefined;
  if (!isJsonObject(result) || !Array.isArray(tools)) return { value: unfilterable(id, "it has no tools array"), id };
  const table = context.table();
  if (table === undefined) return { value: unfilterable(id, "no policy is loaded"), id };
  for (const tool of tools) {
    if (isJsonObject(tool) && typeof tool["name"] === "string") context.knownTools.add(tool["name"]);
  }
  const listed = filterToolsList(table, tools as { name: string }[]);
  if (listed.length === tools.length) return { value, id };
  const filtered: JsonObject = { ...value, result: { ...result, tools: listed } };
  return { value: filtered, id };
}

function unfilterable(id: JsonRpcId, why: string): object {
  return errorResponse(id, INTERNAL_ERROR, `the sidecar could not filter the server's tools/list result: ${why}`);
}
