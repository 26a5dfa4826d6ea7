// JSON-RPC 2.0 messages as MCP uses them, read from a strictly parsed value. Reading
// never copies: a message keeps the parsed object, which is what gets re-serialised and
// forwarded, so the decision and the forwarded bytes cannot disagree.

import { INVALID_REQUEST } from "./error-codes.ts";
import type { JsonRpcId } from "./json-rpc-id.ts";

export type { JsonRpcId };
export type JsonObject = Record<string, unknown>;

interface JsonRpcRequest {
  readonly kind: "request";
  readonly id: JsonRpcId;
  readonly method: string;
  readonly params: JsonObject | undefined;
  readonly value: JsonObject;
}

interface JsonRpcNotification {
  readonly kind: "notification";
  readonly method: string;
  readonly params: JsonObject | undefined;
  readonly value: JsonObject;
}

interface JsonRpcResponse {
  readonly kind: "response";
  /** null only on an error answering a message whose id could not be read. */
  readonly id: JsonRpcId | null;
  readonly value: JsonObject;
}

export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

export type ReadMessageResult =
  | { readonly ok: true; readonly message: JsonRpcMessage }
  | { readonly ok: false; readonly code: number; readonly problem: string; readonly id: JsonRpcId | null };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is JsonRpcId {
  return typeof value === "string" || (typeof value === "number" && Number.isFinite(value));
}

/**
 * MCP names every notification `notifications/...`; anything else is a request. A
 * request-shaped method without an id is refused rather than read as a notification:
 * a server could still act on it, and the sidecar would not have decided it.
 */
function isNotificationMethod(method: string): boolean {
  return method.startsWith("notifications/");
}

export function readJsonRpcMessage(value: unknown): ReadMessageResult {
  if (!isJsonObject(value)) return invalid("a JSON-RPC message must be an object", null);
  const id = Object.hasOwn(value, "id") ? value["id"] : undefined;
  const answerId = isId(id) ? id : null;
  if (value["jsonrpc"] !== "2.0") return invalid('"jsonrpc" must be "2.0"', answerId);
  if (Object.hasOwn(value, "method")) {
    const method = value["method"];
    if (typeof method !== "string" || method === "") return invalid('"method" must be a non-empty string', answerId);
    if (Object.hasOwn(value, "result") || Object.hasOwn(value, "error")) {
      return invalid("a request cannot carry a result or an error", answerId);
    }
    const params = Object.hasOwn(value, "params") ? value["params"] : undefined;
    if (params !== undefined && !isJsonObject(params)) return invalid('"params" must be an object', answerId);
    if (id === undefined) {
      if (!isNotificationMethod(method)) return invalid(`request ${JSON.stringify(method)} has no id`, null);
      return { ok: true, message: { kind: "notification", method, params, value } };
    }
    if (!isId(id)) return invalid('"id" must be a string or a number (not null)', null);
    return { ok: true, message: { kind: "request", id, method, params, value } };
  }
  const hasResult = Object.hasOwn(value, "result");
  const hasError = Object.hasOwn(value, "error");
  if (hasResult === hasError) return invalid("a message needs a method, or exactly one of result and error", answerId);
  if (hasError) {
    const error = value["error"];
    if (!isJsonObject(error) || !Number.isInteger(error["code"]) || typeof error["message"] !== "string") {
      return invalid('"error" must be an object with an integer code and a message', answerId);
    }
    if (id !== null && !isId(id)) return invalid('"id" must be a string, a number or null', null);
    return { ok: true, message: { kind: "response", id: id ?? null, value } };
  }
  if (!isId(id)) return invalid('a result needs a string or number "id"', null);
  return { ok: true, message: { kind: "response", id, value } };
}

function invalid(problem: string, id: JsonRpcId | null): ReadMessageResult {
  return { ok: false, code: INVALID_REQUEST, problem, id };
}

/** Map key for an id: 1 and "1" are different requests. */
export function idKey(id: JsonRpcId): string {
  return typeof id === "string" ? `s${id}` : `n${id}`;
}

/** A request's `params._meta.progressToken`, when it carries one (MCP: a string or a number). */
export function progressTokenOf(params: JsonObject | undefined): JsonRpcId | undefined {
  const meta = params?.["_meta"];
  const token = isJsonObject(meta) ? meta["progressToken"] : undefined;
  return typeof token === "string" || typeof token === "number" ? token : undefined;
}
