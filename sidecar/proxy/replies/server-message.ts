// A message from the server on its way to the client. Almost all pass untouched (the
// original text); the sidecar rewrites only the results of watched requests: tools/list
// is recorded in the tool catalog (each tool's definition digest, taken from the server's
// own text before anything changes), filtered by the policy (hidden, denied, and — with
// pins — tools whose definition is not their pin) and, with advertiseConstraints, shows
// the policy's constraints; an initialize result is read for the negotiated protocol
// version. Every tools/list page is handled, whatever stream or transport brings it.

import { advertiseConstraints, filterToolsList, unpinnedDefinitions, type DecisionTable } from "../../../policy/index.ts";
import type { ToolDefinitionObserver } from "../../contracts.ts";
import { INTERNAL_ERROR, errorResponse } from "../../jsonrpc/error-codes.ts";
import { isJsonObject, type JsonObject, type JsonRpcId } from "../../jsonrpc/message.ts";
import { strictJsonProblem } from "../../jsonrpc/strict-json.ts";
import type { ResponseWatch } from "./response-watch.ts";
import type { ToolCatalog } from "./tool-catalog.ts";

export interface ServerMessageContext {
  /** Checked first (this stream's requests), then the session's. */
  readonly watches: readonly ResponseWatch[];
  readonly table: () => DecisionTable | undefined;
  readonly catalog: ToolCatalog;
  /** Told of each definition a listing shows that differs from the last one seen. */
  readonly definitions: ToolDefinitionObserver | undefined;
  readonly maxDepth: number;
  onInitialized(protocolVersion: string): void;
}

/** What every context is built from: the proxy's shared parts. */
interface MessageContextSource {
  table(): DecisionTable | undefined;
  readonly catalog: ToolCatalog;
  readonly definitions: ToolDefinitionObserver | undefined;
  readonly limits: { readonly maxDepth: number };
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
export function sessionMessageContext(core: MessageContextSource, session: WatchedSession): ServerMessageContext {
  return messageContext(core, [session.watch], (version) => {
    session.protocolVersion = version;
  });
}

export function messageContext(core: MessageContextSource, watches: readonly ResponseWatch[], onInitialized: (protocolVersion: string) => void): ServerMessageContext {
  return {
    watches,
    table: () => core.table(),
    catalog: core.catalog,
    definitions: core.definitions,
    maxDepth: core.limits.maxDepth,
    onInitialized,
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
    // The batch's own text is what may hold duplicate keys (JSON.parse kept the last of
    // each): it is scanned once, when a watched answer in it is to be filtered.
    let strict: boolean | undefined;
    const batchIsStrict = (): boolean => (strict ??= strictJsonProblem(text, context.maxDepth) === undefined);
    const out = value.map((element: unknown) => {
      const result = processValue(element, context, batchIsStrict);
      if (result.id !== undefined) ids.push(result.id);
      if (result.value !== element) changed = true;
      return result.value;
    });
    return { text: changed ? JSON.stringify(out) : text, responseIds: ids };
  }
  const result = processValue(value, context, () => strictJsonProblem(text, context.maxDepth) === undefined);
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
  const digests = recordListing(tools, table, context);
  const listed = filterToolsList(table, tools as { name: string }[], (tool) => digests.get(tool));
  const shown = listed.map((tool) => advertiseConstraints(table, tool));
  if (shown.length === tools.length && shown.every((tool, index) => tool === tools[index])) return { value, id };
  const rewritten: JsonObject = { ...value, result: { ...result, tools: shown } };
  return { value: rewritten, id };
}

/** Each named tool's digest, recorded in the catalog; observers hear of definitions not seen last time. */
function recordListing(tools: readonly unknown[], table: DecisionTable, context: ServerMessageContext): Map<unknown, string> {
  const digests = new Map<unknown, string>();
  for (const tool of tools) {
    if (!isJsonObject(tool) || typeof tool["name"] !== "string") continue;
    const name = tool["name"];
    const recorded = context.catalog.record(tool as JsonObject & { name: string });
    digests.set(tool, recorded.digest);
    if (recorded.changed && context.definitions !== undefined) {
      context.definitions.onToolDefinition({ tool: name, digest: recorded.digest, previous: recorded.previous, unpinned: unpinnedDefinitions(table, name, recorded.digest) });
    }
  }
  return digests;
}

function unfilterable(id: JsonRpcId, why: string): object {
  return errorResponse(id, INTERNAL_ERROR, `the sidecar could not filter the server's tools/list result: ${why}`);
}
