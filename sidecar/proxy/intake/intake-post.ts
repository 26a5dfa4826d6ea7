// A client's POST up to the point of forwarding: content type, size, the strict parse,
// Mcp-Method / Mcp-Name, batches, identity, and the decision on each message. Every
// refusal here is answered at once and nothing reaches the upstream.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { CallIdentity } from "../../../policy/index.ts";
import { HEADER_MISMATCH, INTERNAL_ERROR, INVALID_REQUEST } from "../../jsonrpc/error-codes.ts";
import type { JsonRpcMessage } from "../../jsonrpc/message.ts";
import type { RequestTrace } from "../../contracts.ts";
import { parseMessagesFromBytes } from "../../jsonrpc/parse-messages.ts";
import type { ClientNotifier } from "./approval-progress.ts";
import { sendJsonRpcError } from "../replies/http-replies.ts";
import { mcpHeaderMismatch } from "./mcp-headers.ts";
import { planMessages, timedMethod, toolCallShapeProblem, type MessagePlan } from "./plan-messages.ts";
import type { ProxyCore } from "../proxy-core.ts";
import { readBody } from "./read-body.ts";

/** JSON-RPC batches exist only in this protocol version (added in it, removed after it). */
const BATCH_PROTOCOL_VERSION = "2025-03-26";

export interface PostSession {
  /** The MCP session the POST belongs to ("" when none). */
  readonly id: string;
  /** The version its initialize negotiated, when the sidecar saw it. */
  readonly protocolVersion: string | undefined;
  /** Where progress goes while a call of the POST is held for approval; undefined: nowhere. */
  readonly notifier?: ClientNotifier | undefined;
  /** Aborts when the client can no longer get the POST's answers; undefined: it is not watched. */
  readonly clientGone?: AbortSignal | undefined;
  /** The POST's span; undefined: not traced. */
  readonly trace?: RequestTrace | undefined;
}

export interface Intake {
  readonly batch: boolean;
  readonly messages: readonly JsonRpcMessage[];
  readonly plan: MessagePlan;
}

/**
 * `body`: already read and recognised as JSON-RPC (a forwarded path, whatever its content
 * type); otherwise the body is read here and must be declared JSON.
 */
export async function intakePost(core: ProxyCore, req: IncomingMessage, res: ServerResponse, session: PostSession, body?: Buffer): Promise<Intake | undefined> {
  const contentType = req.headers["content-type"];
  if (body === undefined && !isJsonContentType(contentType)) {
    sendJsonRpcError(res, 415, INVALID_REQUEST, "Unsupported Media Type: Content-Type must be application/json (UTF-8)");
    return undefined;
  }
  const encoding = req.headers["content-encoding"];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") {
    req.resume();
    sendJsonRpcError(res, 415, INVALID_REQUEST, "Unsupported Media Type: encoded (compressed) bodies are not accepted");
    return undefined;
  }
  // Who calls is settled before the body is read: an unauthenticated client learns nothing
  // from the parser.
  const identity = await resolveIdentity(core, req, res, session.id);
  if (identity === undefined) {
    req.resume();
    return undefined;
  }
  const bytes = body ?? (await readRequestBody(core, req, res));
  if (bytes === undefined) return undefined;
  const parsed = parseMessagesFromBytes(bytes, core.limits.maxDepth);
  if (!parsed.ok) {
    sendJsonRpcError(res, 400, parsed.code, parsed.problem, parsed.id);
    return undefined;
  }
  const { batch, messages } = parsed;
  // headersDistinct is built on first use; most requests carry neither header.
  const mirrored = req.headers["mcp-method"] !== undefined || req.headers["mcp-name"] !== undefined;
  const mismatch = mirrored ? mcpHeaderMismatch(req.headersDistinct, messages) : undefined;
  if (mismatch !== undefined) {
    sendJsonRpcError(res, 400, HEADER_MISMATCH, `Header mismatch: ${mismatch}`, firstRequestId(messages));
    return undefined;
  }
  if (batch && session.protocolVersion !== BATCH_PROTOCOL_VERSION) {
    const version = session.protocolVersion === undefined ? "no known protocol version" : `protocol version ${session.protocolVersion}`;
    sendJsonRpcError(res, 400, INVALID_REQUEST, `Invalid Request: JSON-RPC batches are accepted only on sessions that negotiated ${BATCH_PROTOCOL_VERSION} (this one has ${version})`);
    return undefined;
  }
  if (batch && messages.some((message) => message.kind === "request" && message.method === "initialize")) {
    sendJsonRpcError(res, 400, INVALID_REQUEST, "Invalid Request: initialize must not be part of a batch");
    return undefined;
  }
  const shape = toolCallShapeProblem(messages);
  if (shape !== undefined) {
    sendJsonRpcError(res, 400, shape.code, `Invalid Request: ${shape.problem}`, shape.id);
    return undefined;
  }
  session.trace?.identify(timedMethod(messages), tracedTool(messages));
  const plan = await planMessages(messages, { table: core.table(), identity, sessionId: session.id, notifier: session.notifier, clientGone: session.clientGone, trace: session.trace }, core.toolCallDeps);
  return { batch, messages, plan };
}

/** The request body within --max-request-bytes; undefined after answering 413 (or when the client left). */
export async function readRequestBody(core: ProxyCore, req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> {
  const body = await readBody(req, core.limits.maxBodyBytes);
  if (body.ok) return body.bytes;
  if (body.reason === "too_large") {
    sendJsonRpcError(res, 413, INVALID_REQUEST, `Payload Too Large: the body exceeds ${core.limits.maxBodyBytes} bytes (--max-request-bytes)`);
  } else if (!res.destroyed) {
    res.destroy();
  }
  return undefined;
}

/**
 * The caller under the table's identity spec; undefined after answering 401 (or 500 when
 * the resolver itself failed). Without a policy there is no spec: every call is refused
 * anyway, so the caller is nobody.
 */
export async function resolveIdentity(core: ProxyCore, req: IncomingMessage, res: ServerResponse, sessionId: string): Promise<CallIdentity | undefined> {
  const table = core.table();
  if (table === undefined) return { id: "" };
  try {
    const outcome = await core.options.identity.resolve(table.identity, req.headers, sessionId);
    if (outcome.ok) return outcome.identity;
    sendJsonRpcError(res, 401, INVALID_REQUEST, `Unauthorized: ${outcome.message}`, null, { "www-authenticate": outcome.wwwAuthenticate });
    return undefined;
  } catch (error) {
    core.logger.error({ err: error }, "the identity resolver failed; refusing the request");
    sendJsonRpcError(res, 500, INTERNAL_ERROR, "the sidecar could not establish who is calling");
    return undefined;
  }
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const [type, ...parameters] = value.split(";");
  if (type?.trim().toLowerCase() !== "application/json") return false;
  for (const parameter of parameters) {
    const [name, raw] = parameter.split("=", 2);
    if (name?.trim().toLowerCase() !== "charset") continue;
    const charset = raw?.trim().replace(/^"|"$/g, "").toLowerCase();
    if (charset !== "utf-8" && charset !== "utf8") return false;
  }
  return true;
}

function firstRequestId(messages: readonly JsonRpcMessage[]): string | number | null {
  for (const message of messages) if (message.kind === "request") return message.id;
  return null;
}

/** The tool a POST of one tools/call names (its span's name); undefined for anything else. */
function tracedTool(messages: readonly JsonRpcMessage[]): string | undefined {
  if (messages.length !== 1) return undefined;
  const message = messages[0] as JsonRpcMessage;
  if (message.kind !== "request" || message.method !== "tools/call") return undefined;
  const name = message.params?.["name"];
  return typeof name === "string" ? name : undefined;
}
