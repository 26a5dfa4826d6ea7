// JSON-RPC error codes the sidecar writes, and the error response shape.

import type { JsonRpcId } from "./json-rpc-id.ts";

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INTERNAL_ERROR = -32603;
/** The MCP SDK's ConnectionClosed: the upstream went away before answering. */
export const CONNECTION_CLOSED = -32000;
/** The MCP SDK's RequestTimeout. */
export const REQUEST_TIMEOUT = -32001;
/** MCP 2026-07-28: a Mcp-Method / Mcp-Name header disagrees with the body. */
export const HEADER_MISMATCH = -32020;

export interface JsonRpcErrorResponse {
  readonly jsonrpc: "2.0";
  readonly id: JsonRpcId | null;
  readonly error: { readonly code: number; readonly message: string; readonly data?: unknown };
}

export function errorResponse(id: JsonRpcId | null, code: number, message: string, data?: unknown): JsonRpcErrorResponse {
  return { jsonrpc: "2.0", id, error: data === undefined ? { code, message } : { code, message, data } };
}
