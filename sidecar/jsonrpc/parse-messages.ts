// One HTTP body (or one stdio line) to JSON-RPC messages: UTF-8 decoded strictly, parsed
// strictly, every element read. Any problem refuses the whole body: nothing of a body
// the sidecar could not fully read is forwarded.

import { INVALID_REQUEST, PARSE_ERROR } from "./error-codes.ts";
import { readJsonRpcMessage, type JsonRpcId, type JsonRpcMessage } from "./message.ts";
import { DEFAULT_MAX_DEPTH, parseStrictJson } from "./strict-json.ts";

/** The MCP SDK's bound on a batch, which servers built on it enforce anyway. */
const MAX_BATCH_LENGTH = 100;

export type ParsedMessages =
  | { readonly ok: true; readonly batch: boolean; readonly messages: readonly JsonRpcMessage[] }
  | { readonly ok: false; readonly code: number; readonly problem: string; readonly id: JsonRpcId | null };

// fatal: invalid UTF-8 is an error, not U+FFFD (which would make two byte strings one name).
const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function parseMessagesFromBytes(bytes: Uint8Array, maxDepth: number = DEFAULT_MAX_DEPTH): ParsedMessages {
  const text = decodeUtf8(bytes);
  if (text === undefined) return { ok: false, code: PARSE_ERROR, problem: "the body is not valid UTF-8", id: null };
  return parseMessages(text, maxDepth);
}

function parseMessages(text: string, maxDepth: number = DEFAULT_MAX_DEPTH): ParsedMessages {
  const parsed = parseStrictJson(text, maxDepth);
  if (!parsed.ok) return { ok: false, code: PARSE_ERROR, problem: `parse error: ${parsed.problem}`, id: null };
  const value = parsed.value;
  if (!Array.isArray(value)) {
    const read = readJsonRpcMessage(value);
    return read.ok ? { ok: true, batch: false, messages: [read.message] } : read;
  }
  if (value.length === 0) return { ok: false, code: INVALID_REQUEST, problem: "an empty batch", id: null };
  if (value.length > MAX_BATCH_LENGTH) {
    return { ok: false, code: INVALID_REQUEST, problem: `a batch of more than ${MAX_BATCH_LENGTH} messages`, id: null };
  }
  const messages: JsonRpcMessage[] = [];
  for (let index = 0; index < value.length; index++) {
    const read = readJsonRpcMessage(value[index]);
    if (!read.ok) return { ...read, problem: `batch element ${index}: ${read.problem}` };
    messages.push(read.message);
  }
  return { ok: true, batch: true, messages };
}
