// MCP 2026-07-28 mirrors the method and the target name of a POST in headers
// (Mcp-Method, Mcp-Name) so intermediaries can route without reading the body. Where a
// client sends them they must say what the body says: otherwise something that trusts
// the header and the server (which reads the body) would be told two different things.
// Mcp-Name values outside the header character set arrive as =?base64?<utf-8>?=.

import type { JsonRpcMessage } from "../../jsonrpc/message.ts";

const BASE64_PREFIX = "=?base64?";
const BASE64_SUFFIX = "?=";
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** undefined when the headers are absent or agree with every message; otherwise why not. */
/** `headers`: IncomingMessage.headersDistinct, so a repeated header is seen as repeated. */
export function mcpHeaderMismatch(headers: NodeJS.Dict<string[]>, messages: readonly JsonRpcMessage[]): string | undefined {
  const methodHeader = single(headers["mcp-method"]);
  const nameHeader = single(headers["mcp-name"]);
  if (methodHeader === undefined && nameHeader === undefined) return undefined;
  if (methodHeader === null || nameHeader === null) return "Mcp-Method and Mcp-Name may each be sent once";
  const name = nameHeader === undefined ? undefined : decodeHeaderValue(nameHeader);
  if (name === null) return "the Mcp-Name header is not valid base64-encoded UTF-8";
  for (const message of messages) {
    const method = message.kind === "response" ? undefined : message.method;
    if (methodHeader !== undefined && methodHeader !== method) {
      return `Mcp-Method header ${JSON.stringify(methodHeader)} does not match the body's method ${JSON.stringify(method ?? null)}`;
    }
    if (name !== undefined) {
      const bodyName = message.kind === "response" ? undefined : targetName(message.params);
      if (name !== bodyName) return `Mcp-Name header ${JSON.stringify(name)} does not match the body's ${JSON.stringify(bodyName ?? null)}`;
    }
  }
  return undefined;
}

function single(values: string[] | undefined): string | undefined | null {
  if (values === undefined || values.length === 0) return undefined;
  return values.length === 1 ? values[0] : null;
}

/** params.name (tools, prompts), else params.uri (resources). */
function targetName(params: Record<string, unknown> | undefined): string | undefined {
  const name = params?.["name"];
  if (typeof name === "string") return name;
  const uri = params?.["uri"];
  return typeof uri === "string" ? uri : undefined;
}

function decodeHeaderValue(value: string): string | null {
  if (!value.startsWith(BASE64_PREFIX) || !value.endsWith(BASE64_SUFFIX) || value.length < BASE64_PREFIX.length + BASE64_SUFFIX.length) {
    return value;
  }
  const encoded = value.slice(BASE64_PREFIX.length, value.length - BASE64_SUFFIX.length);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return null;
  try {
    return utf8.decode(Buffer.from(encoded, "base64"));
  } catch {
    return null;
  }
}
