// Stateless MCP (2026-07-28) in front of a stdio server. Such a request has no session:
// no initialize, no Mcp-Session-Id, its protocol version in its own `_meta` (and, over
// HTTP, in MCP-Protocol-Version). The stdio bridge sends all of them to one shared server
// process, which a stateless server must allow ("one stdio process is not one session").
//
// What makes a POST stateless here: no Mcp-Session-Id, no initialize, and a protocol
// version of 2026-07-28 or later named by the MCP-Protocol-Version header or by a
// request's `_meta["io.modelcontextprotocol/protocolVersion"]`. Where both are given
// they must agree (the header mirrors the body, as Mcp-Method does).
//
// Many clients share the process, so their ids would collide: each forwarded request
// gets an id (and a progress token) of the sidecar's own, and what the server writes is
// given back under the client's.

import type { IncomingHttpHeaders } from "node:http";
import { isJsonObject, type JsonObject, type JsonRpcId, type JsonRpcMessage } from "../../jsonrpc/message.ts";
import type { ProxyLogger } from "../options.ts";

const STATELESS_PROTOCOL_VERSION = "2026-07-28";
const META_PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion";
/** Read on a server notification to find the request it belongs to (besides progress tokens). */
const META_RELATED_REQUEST = "io.modelcontextprotocol/relatedRequestId";
const VERSION_SHAPE = /^\d{4}-\d{2}-\d{2}$/;

export type StatelessVerdict =
  | { readonly kind: "stateless"; readonly version: string }
  | { readonly kind: "not-stateless" }
  | { readonly kind: "invalid"; readonly problem: string };

/** Whether a sessionless, initialize-free POST speaks the stateless protocol (see the header). */
export function statelessVerdict(headers: IncomingHttpHeaders, messages: readonly JsonRpcMessage[]): StatelessVerdict {
  const raw = headers["mcp-protocol-version"];
  const header = Array.isArray(raw) ? raw[0] : raw;
  const versions = new Set<string>();
  for (const message of messages) {
    if (message.kind !== "request") continue;
    const meta = message.params?.["_meta"];
    const version = isJsonObject(meta) ? meta[META_PROTOCOL_VERSION] : undefined;
    if (version === undefined) continue;
    if (typeof version !== "string") return { kind: "invalid", problem: `_meta["${META_PROTOCOL_VERSION}"] must be a string` };
    versions.add(version);
  }
  if (versions.size > 1) return { kind: "invalid", problem: "the requests of one POST name different protocol versions" };
  const [fromMeta] = versions;
  if (header !== undefined && fromMeta !== undefined && header.trim() !== fromMeta) {
    return { kind: "invalid", problem: `MCP-Protocol-Version header ${JSON.stringify(header)} does not match the body's ${JSON.stringify(fromMeta)}` };
  }
  const version = fromMeta ?? header?.trim();
  if (version === undefined || !VERSION_SHAPE.test(version) || version < STATELESS_PROTOCOL_VERSION) return { kind: "not-stateless" };
  return { kind: "stateless", version };
}

/** A client message as the shared process receives it; undefined when it is not sent at all. */
export interface SharedOutbound {
  readonly value: JsonObject;
  /** For a request: the id the process sees, and its progress token when it asked for progress. */
  readonly upstreamId?: string;
  readonly upstreamToken?: string;
}

/**
 * Requests get the sidecar's id (and token); `notifications/cancelled` names a client's id
 * that the sidecar cannot attribute on a sessionless POST, and responses answer server
 * requests, which stateless core does not have: neither is sent.
 */
export function toSharedProcess(message: JsonRpcMessage, mint: () => string): SharedOutbound | undefined {
  if (message.kind === "response") return undefined;
  if (message.kind === "notification") return message.method === "notifications/cancelled" ? undefined : { value: message.value };
  const upstreamId = mint();
  const meta = message.params?.["_meta"];
  if (!isJsonObject(meta) || !Object.hasOwn(meta, "progressToken")) return { value: { ...message.value, id: upstreamId }, upstreamId };
  const upstreamToken = `${upstreamId}-progress`;
  const params = { ...message.params, _meta: { ...meta, progressToken: upstreamToken } };
  return { value: { ...message.value, id: upstreamId, params }, upstreamId, upstreamToken };
}

/** The server's text with the client's id in place of the sidecar's. */
export function restoreResponseId(text: string, id: JsonRpcId): string {
  const value = JSON.parse(text) as unknown;
  return JSON.stringify(isJsonObject(value) ? { ...value, id } : value);
}

/** The upstream progress token, or related request id, a server notification names. */
export function notificationOwner(value: JsonObject): { readonly token?: JsonRpcId; readonly requestId?: JsonRpcId } {
  const params = value["params"];
  if (!isJsonObject(params)) return {};
  const token = params["progressToken"];
  if (value["method"] === "notifications/progress" && (typeof token === "string" || typeof token === "number")) return { token };
  const meta = params["_meta"];
  const related = isJsonObject(meta) ? meta[META_RELATED_REQUEST] : undefined;
  return typeof related === "string" || typeof related === "number" ? { requestId: related } : {};
}

/** A server notification given back under the client's progress token or request id. */
export function restoreNotification(value: JsonObject, clientToken: JsonRpcId | undefined, clientId: JsonRpcId): string {
  const params = value["params"] as JsonObject;
  if (value["method"] === "notifications/progress" && clientToken !== undefined) {
    return JSON.stringify({ ...value, params: { ...params, progressToken: clientToken } });
  }
  const meta = params["_meta"] as JsonObject;
  return JSON.stringify({ ...value, params: { ...params, _meta: { ...meta, [META_RELATED_REQUEST]: clientId } } });
}

/** Counts what the shared process wrote that no client can be given, logged at debug level. */
export class UnownedMessages {
  #count = 0;

  get count(): number {
    return this.#count;
  }

  drop(logger: ProxyLogger, why: string, text: string): void {
    this.#count++;
    // The sidecar's logger interface has no debug level; pino's does.
    const debug = (logger as Partial<Record<"debug", (object: object, message: string) => void>>).debug;
    debug?.call(logger, { dropped: this.#count, line: text.slice(0, 200) }, `dropped a message of the shared stateless MCP server process: ${why}`);
  }
}
