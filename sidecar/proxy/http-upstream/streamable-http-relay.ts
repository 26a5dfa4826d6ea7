// Streamable HTTP in front of an HTTP upstream: POST (JSON or SSE replies), the GET
// stream, DELETE, OPTIONS/HEAD passed through, and paths an operator forwards. The
// upstream owns sessions; the sidecar passes Mcp-Session-Id, MCP-Protocol-Version and
// Last-Event-ID through and only remembers what it must (a session's protocol version, its
// watched requests). Replies stream through unless the sidecar must rewrite them
// (docs/architecture.md "Bounded memory": a tools/list result it filters, an initialize
// result, a batch it merges its own answers into).

import type { IncomingMessage, ServerResponse } from "node:http";
import { UpstreamTimeoutError, type UpstreamAgent, type UpstreamBody, type UpstreamResponse } from "./upstream-agent.ts";
import { CONNECTION_CLOSED, errorResponse, INTERNAL_ERROR, INVALID_REQUEST, PARSE_ERROR, REQUEST_TIMEOUT } from "../../jsonrpc/error-codes.ts";
import { idKey, type JsonRpcId, type JsonRpcMessage } from "../../jsonrpc/message.ts";
import { parseStrictJson } from "../../jsonrpc/strict-json.ts";
import { abortWhenClientLeaves } from "../intake/client-leaves.ts";
import { readRequestBody, resolveIdentity, type Intake } from "../intake/intake-post.ts";
import { serialiseForward } from "../intake/plan-messages.ts";
import { receivePost, type ReceivedPost } from "../intake/receive-post.ts";
import type { ProxyCore } from "../proxy-core.ts";
import { sendReply, type EarlySseReply } from "../replies/early-sse-reply.ts";
import { sendJsonRpcError, sseMessageEvent, writeWithBackpressure } from "../replies/http-replies.ts";
import { hasLongLivedRequest } from "../replies/long-lived-requests.ts";
import { mergeReplies } from "../replies/merge-replies.ts";
import { PEEK_BYTES, relaySseEvents, type SseRelayHandlers } from "../replies/relay-sse-events.ts";
import { ResponseWatch } from "../replies/response-watch.ts";
import { messageContext, processServerMessage, type ServerMessageContext } from "../replies/server-message.ts";
import { replaceEventData } from "../replies/sse-events.ts";
import { SessionRegistry, type SessionState } from "./session-registry.ts";
import type { UpstreamTarget } from "./upstream-endpoints.ts";
import {
  clientResponseHeaders,
  discard,
  headerValue,
  mediaType,
  openUpstreamEventStream,
  peekBody,
  readUpstreamBody,
  refuseRedirect,
  relayUntouched,
  streamBody,
  upstreamRequestHeaders,
  type RelayContext,
} from "./upstream-http.ts";
import { isRedirect, redirectMessage, type RedirectLog } from "./upstream-redirect.ts";

/** Forwarded requests of one POST, and which are still unanswered. */
class PendingRequests {
  readonly #ids = new Map<string, JsonRpcId>();

  constructor(messages: readonly JsonRpcMessage[]) {
    for (const message of messages) if (message.kind === "request") this.#ids.set(idKey(message.id), message.id);
  }

  get size(): number {
    return this.#ids.size;
  }

  answered(id: JsonRpcId): void {
    this.#ids.delete(idKey(id));
  }

  remaining(): JsonRpcId[] {
    return [...this.#ids.values()];
  }
}

/** Why forwarded requests got no answer from the upstream. */
type Failure =
  | { readonly kind: "timeout" | "closed" | "unreachable" | "refused" }
  | { readonly kind: "redirect"; readonly status: number }
  | { readonly kind: "too_large" };

const FORWARDED_BODY_METHODS: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH"]);
const FORWARDED_BODYLESS_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "DELETE"]);

export class StreamableHttpRelay {
  readonly #core: ProxyCore;
  readonly #agent: UpstreamAgent;
  readonly #sessions: SessionRegistry;
  readonly #streams = new Set<UpstreamBody>();
  readonly #relay: RelayContext;

  constructor(core: ProxyCore, agent: UpstreamAgent, redirects: RedirectLog) {
    this.#core = core;
    this.#agent = agent;
    this.#sessions = new SessionRegistry(core.sessionIdleTimeoutMs, core.now);
    this.#relay = { logger: core.logger, redirects, idleTimeoutMs: core.upstreamTimeoutMs };
  }

  /** MCP sessions the sidecar has seen initialized and not yet forgotten. */
  get liveSessions(): number {
    return this.#sessions.liveCount();
  }

  /** Ends every relayed stream (close()). */
  closeStreams(): void {
    for (const body of this.#streams) body.destroy();
    this.#streams.clear();
  }

  /** The MCP endpoint. */
  async handle(req: IncomingMessage, res: ServerResponse, target: UpstreamTarget): Promise<void> {
    switch (req.method) {
      case "POST":
        return this.#post(req, res, target);
      case "GET":
        return this.#get(req, res, target);
      case "DELETE":
        return this.#passThrough(req, res, target, { isDelete: true });
      case "OPTIONS":
      case "HEAD":
        // CORS preflights and probes carry no message.
        return this.#passThrough(req, res, target, { isDelete: false });
      default:
        // Another method could carry a message the sidecar never decided: refused.
        req.resume();
        sendJsonRpcError(res, 405, CONNECTION_CLOSED, "Method not allowed.", null, { allow: "GET, POST, DELETE" });
    }
  }

  /** MCP authorization discovery (RFC 9728): read-only, relayed as it is. */
  async protectedResourceMetadata(req: IncomingMessage, res: ServerResponse, target: UpstreamTarget): Promise<void> {
    if (req.method !== "GET" && req.method !== "HEAD" && req.method !== "OPTIONS") {
      req.resume();
      sendJsonRpcError(res, 405, CONNECTION_CLOSED, "Method not allowed.", null, { allow: "GET, HEAD, OPTIONS" });
      return;
    }
    await this.#passThrough(req, res, target, { isDelete: false, anonymous: true });
  }

  /**
   * A path an operator forwards (--forward-path). Never a way around the policy: a body
   * that is JSON is read, and one that holds JSON-RPC messages is decided exactly as on the
   * MCP endpoint; JSON that does not parse strictly is refused (another parser might still
   * read a message in it). Anything else is forwarded as it is.
   */
  async forwarded(req: IncomingMessage, res: ServerResponse, target: UpstreamTarget): Promise<void> {
    const method = req.method ?? "GET";
    if (FORWARDED_BODYLESS_METHODS.has(method)) return this.#passThrough(req, res, target, { isDelete: false });
    if (!FORWARDED_BODY_METHODS.has(method)) {
      req.resume();
      sendJsonRpcError(res, 405, CONNECTION_CLOSED, "Method not allowed.", null, { allow: [...FORWARDED_BODYLESS_METHODS, ...FORWARDED_BODY_METHODS].join(", ") });
      return;
    }
    const encoding = req.headers["content-encoding"];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") {
      req.resume();
      sendJsonRpcError(res, 415, INVALID_REQUEST, "Unsupported Media Type: encoded (compressed) bodies are not accepted: the sidecar must read them");
      return;
    }
    const sessionId = singleHeader(req.headers["mcp-session-id"]);
    if ((await resolveIdentity(this.#core, req, res, sessionId ?? "")) === undefined) {
      req.resume();
      return;
    }
    const body = await readRequestBody(this.#core, req, res);
    if (body === undefined) return;
    const kind = forwardedBodyKind(body, this.#core.limits.maxDepth);
    if (kind === "json-rpc") return this.#post(req, res, target, body);
    if (kind !== "opaque") {
      sendJsonRpcError(res, 400, PARSE_ERROR, `Parse error: ${kind.problem}; a JSON body on a forwarded path must parse strictly, since it might hold JSON-RPC messages`);
      return;
    }
    await this.#passThrough(req, res, target, { isDelete: false, body });
  }

  async #post(req: IncomingMessage, res: ServerResponse, target: UpstreamTarget, body?: Buffer): Promise<void> {
    const sessionId = singleHeader(req.headers["mcp-session-id"]);
    const state = this.#sessions.get(sessionId);
    const sessionHeader: Record<string, string> = sessionId === undefined ? {} : { "mcp-session-id": sessionId };
    const post = await receivePost(this.#core, req, res, { sessionId: sessionId ?? "", protocolVersion: state?.protocolVersion, progress: "reply", replyHeaders: sessionHeader }, body);
    if (post === undefined) return;
    const { intake, early } = post;
    const { plan } = intake;
    if (plan.forward.length === 0 || post.clientGone.aborted) {
      if (plan.forward.length > 0) this.#core.logger.info({ method: post.method }, "the client left while its POST was decided; nothing of it was forwarded");
      sendReply(res, early, 200, mergeReplies(intake, []), sessionHeader);
      post.observed();
      return;
    }
    if (plan.initializeIds.length > 0 && !this.#core.sessionRoom()) {
      post.observed();
      this.#core.refuseSession(res, early, plan.initializeIds[0] ?? null);
      return;
    }
    const watch = new ResponseWatch();
    post.watchAnswers(watch);
    for (const id of plan.toolsListIds) state?.watch.add(id, "tools/list");
    const pending = new PendingRequests(plan.forward);
    post.observed();
    const forwarded = performance.now();
    const traced = post.trace?.upstream(target.origin);
    let upstream: UpstreamResponse;
    try {
      upstream = await this.#agent.request({
        ...target,
        method: (req.method ?? "POST"),
        headers: upstreamRequestHeaders(req.headers, { "content-type": "application/json", ...traced?.headers }),
        body: serialiseForward(plan.forward, intake.batch),
        signal: post.clientGone,
        headersTimeout: this.#core.upstreamTimeoutMs,
        bodyTimeout: 0,
      });
    } catch (error) {
      const timedOut = isTimeout(error);
      traced?.end(undefined, timedOut ? "the upstream did not answer in time" : "the upstream could not be reached");
      this.#core.logger.warn({ err: error }, timedOut ? "the upstream did not answer in time" : "the upstream could not be reached");
      this.#answerFailure(res, intake, pending, { kind: timedOut ? "timeout" : "unreachable" }, sessionHeader, early);
      return;
    }
    if (isRedirect(upstream.statusCode)) {
      traced?.end(upstream.statusCode, "the upstream redirected; redirects are refused");
      this.#relay.redirects.note(this.#core.logger, upstream.statusCode, upstream.headers["location"]);
      discard(upstream.body);
      this.#answerFailure(res, intake, pending, { kind: "redirect", status: upstream.statusCode }, sessionHeader, early);
      return;
    }
    // A session is born with the initialize reply; remember it to learn its version.
    let session = state;
    const newSessionId = headerValue(upstream.headers, "mcp-session-id");
    if (plan.initializeIds.length > 0 && newSessionId !== undefined && upstream.statusCode < 300) {
      session = this.#sessions.create(newSessionId);
    }
    const context = this.#messageContext(session, watch);
    const type = mediaType(upstream.headers);
    if (upstream.statusCode >= 300 || (type !== "text/event-stream" && type !== "application/json")) {
      traced?.end(upstream.statusCode);
      if (upstream.statusCode < 300 && plan.answers.length > 0) {
        // Notifications accepted (202) next to requests the sidecar refused: answer those.
        discard(upstream.body);
        sendReply(res, early, 200, mergeReplies(intake, []), clientResponseHeadersOnly(upstream));
        return;
      }
      if (early !== undefined) {
        // The stream's status line is sent: the client learns of the refusal per request.
        discard(upstream.body);
        this.#core.logger.warn({ status: upstream.statusCode, type }, "the upstream refused a POST whose reply was already streaming");
        this.#answerFailure(res, intake, pending, { kind: "refused" }, {}, early);
        return;
      }
      await relayUntouched(upstream, res, this.#relay);
      return;
    }
    if (type === "application/json") {
      await this.#relayJson(upstream, res, post, pending, context, watch);
      this.#core.observe("upstream", post.method, forwarded);
      traced?.end(upstream.statusCode);
      return;
    }
    this.#core.observe("upstream", post.method, forwarded);
    traced?.end(upstream.statusCode);
    await this.#relaySse(upstream, res, post, pending, context);
  }

  #messageContext(session: SessionState | undefined, watch: ResponseWatch | undefined): ServerMessageContext {
    const watches = [watch, session?.watch].filter((entry): entry is ResponseWatch => entry !== undefined);
    return messageContext(this.#core, watches, (version) => {
      if (session !== undefined) session.protocolVersion = version;
    });
  }

  /**
   * A JSON reply. Read whole only when the sidecar must rewrite it (a watched answer, or
   * its own answers to merge into a batch), up to --max-inspected-reply-bytes; otherwise
   * streamed as it comes, whatever its size.
   */
  async #relayJson(
    upstream: UpstreamResponse,
    res: ServerResponse,
    post: ReceivedPost,
    pending: PendingRequests,
    context: ServerMessageContext,
    watch: ResponseWatch,
  ): Promise<void> {
    const { intake, early } = post;
    const mustRead = watch.size > 0 || intake.plan.answers.length > 0 || (early !== undefined && intake.batch);
    if (!mustRead) {
      await this.#streamJson(upstream, res, post, pending);
      return;
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      upstream.body.destroy();
    }, this.#core.upstreamTimeoutMs);
    timer.unref();
    const read = await readUpstreamBody(upstream.body, this.#core.limits.maxInspectedReplyBytes, upstream.headers["content-length"]);
    clearTimeout(timer);
    if (!read.ok) {
      const failure: Failure = { kind: read.reason === "too_large" ? "too_large" : timedOut ? "timeout" : "closed" };
      this.#answerFailure(res, intake, pending, failure, clientResponseHeadersOnly(upstream), early);
      return;
    }
    const bytes = read.bytes;
    const text = bytes.toString("utf8");
    const outcome = processServerMessage(text, context, false);
    if (outcome.text === text && intake.plan.answers.length === 0 && early === undefined) {
      if (res.headersSent || res.destroyed) return;
      const headers = clientResponseHeaders(upstream.headers, false);
      headers["content-length"] = String(bytes.length);
      res.writeHead(upstream.statusCode, headers);
      res.end(bytes);
      return;
    }
    let replies: unknown;
    try {
      replies = JSON.parse(outcome.text);
    } catch {
      // Not JSON, yet there are sidecar answers to merge: answer the requests as failed.
      this.#answerFailure(res, intake, pending, { kind: "closed" }, clientResponseHeadersOnly(upstream), early);
      return;
    }
    sendReply(res, early, upstream.statusCode, mergeReplies(intake, Array.isArray(replies) ? replies : [replies]), clientResponseHeadersOnly(upstream));
  }

  /**
   * A JSON reply relayed as it arrives; on a reply already opened as an event stream, as
   * one event. The first PEEK_BYTES are read before anything is sent: a small reply (most)
   * that the server fails to finish still gets its requests answered with an error.
   */
  async #streamJson(upstream: UpstreamResponse, res: ServerResponse, post: ReceivedPost, pending: PendingRequests): Promise<void> {
    const { early } = post;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      upstream.body.destroy();
    }, this.#core.upstreamTimeoutMs);
    timer.unref();
    const peeked = await peekBody(upstream.body, PEEK_BYTES, upstream.headers["content-length"]);
    clearTimeout(timer);
    if (peeked.kind === "failed") {
      this.#answerFailure(res, post.intake, pending, { kind: timedOut ? "timeout" : "closed" }, clientResponseHeadersOnly(upstream), early);
      return;
    }
    if (res.destroyed || (early === undefined && res.headersSent)) {
      discard(upstream.body);
      return;
    }
    if (peeked.kind === "whole" && early === undefined) {
      // The common small reply: sent in one write, with its length.
      const headers = clientResponseHeaders(upstream.headers, false);
      headers["content-length"] = String(peeked.bytes.length);
      res.writeHead(upstream.statusCode, headers);
      res.end(peeked.bytes);
      return;
    }
    const head = peeked.kind === "whole" ? [peeked.bytes] : peeked.head;
    const rest = peeked.kind === "whole" ? emptyIterator() : peeked.rest;
    let complete: boolean;
    if (early !== undefined) {
      // JSON's line breaks are whitespace outside strings (inside them they are escaped):
      // as spaces, the message fits one data line.
      await writeWithBackpressure(res, "event: message\ndata: ");
      complete = await streamBody(upstream.body, res, this.#core.upstreamTimeoutMs, { head, rest, transform: withoutLineBreaks });
      if (complete) res.end("\n\n");
    } else {
      res.writeHead(upstream.statusCode, clientResponseHeaders(upstream.headers, true));
      complete = await streamBody(upstream.body, res, this.#core.upstreamTimeoutMs, { head, rest });
      if (complete) res.end();
    }
    // A reply cut off mid-way (the upstream failed or stalled) is cut off for the client too.
    if (!complete && !res.destroyed) res.destroy();
  }

  async #relaySse(upstream: UpstreamResponse, res: ServerResponse, post: ReceivedPost, pending: PendingRequests, context: ServerMessageContext): Promise<void> {
    const { intake } = post;
    if (res.destroyed) {
      discard(upstream.body);
      return;
    }
    // Already open when it carried progress while a call was held (early-sse-reply.ts).
    if (!res.headersSent) {
      res.writeHead(upstream.statusCode, clientResponseHeaders(upstream.headers, false));
      res.flushHeaders();
    }
    // The sidecar's own answers first: they are final, and waiting would gain nothing.
    for (const answer of intake.plan.answers) res.write(sseMessageEvent(JSON.stringify(answer.response)));
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const longLived = hasLongLivedRequest(intake.plan.forward);
    const arm = (): void => {
      clearTimeout(timer);
      if (pending.size === 0 || longLived) return;
      timer = setTimeout(() => {
        timedOut = true;
        upstream.body.destroy();
      }, this.#core.upstreamTimeoutMs);
      timer.unref();
    };
    arm();
    this.#streams.add(upstream.body);
    const ended = await relaySseEvents(upstream.body, res, this.#eventHandlers(context, pending, arm));
    clearTimeout(timer);
    this.#streams.delete(upstream.body);
    if (ended === "client-gone" || post.clientGone.aborted) {
      discard(upstream.body);
      return;
    }
    // A stream that ended cleanly may be a server closing it on purpose (SSE polling: the
    // client resumes with Last-Event-ID). A broken or silent one gets errors for what it
    // left unanswered.
    if (ended === "failed" || timedOut) {
      const failure: Failure = { kind: timedOut ? "timeout" : "closed" };
      for (const id of pending.remaining()) res.write(sseMessageEvent(JSON.stringify(this.#failureResponse(id, failure))));
    }
    res.end();
  }

  /** How events of an upstream stream are read: answers the sidecar watches are rewritten, the rest relayed. */
  #eventHandlers(context: ServerMessageContext, pending: PendingRequests | undefined, arm: () => void): SseRelayHandlers {
    return {
      inspectLimit: this.#core.limits.maxInspectedReplyBytes,
      mustInspect: () => context.watches.some((watch) => watch.size > 0),
      isWatched: (id) => context.watches.some((watch) => watch.has(id)),
      onEvent: (event) => {
        if (event.type !== "message" || event.data === undefined || event.data === "") return undefined;
        const outcome = processServerMessage(event.data, context);
        for (const id of outcome.responseIds) pending?.answered(id);
        arm();
        return outcome.text === event.data ? undefined : replaceEventData(event, outcome.text);
      },
      onStreamed: (messages) => {
        for (const message of messages) if (!message.hasMethod && message.id !== undefined) pending?.answered(message.id);
        arm();
      },
      onWithheld: (messages) => {
        let out = "";
        for (const message of messages) {
          if (message.hasMethod || message.id === undefined) continue;
          for (const watch of context.watches) watch.take(message.id);
          pending?.answered(message.id);
          out += sseMessageEvent(JSON.stringify(this.#failureResponse(message.id, { kind: "too_large" })));
        }
        arm();
        return out;
      },
    };
  }

  async #get(req: IncomingMessage, res: ServerResponse, target: UpstreamTarget): Promise<void> {
    const sessionId = singleHeader(req.headers["mcp-session-id"]);
    if ((await resolveIdentity(this.#core, req, res, sessionId ?? "")) === undefined) return;
    const abort = abortWhenClientLeaves(res);
    const upstream = await openUpstreamEventStream(this.#agent, target, req, res, {
      signal: abort.signal,
      headersTimeoutMs: this.#core.upstreamTimeoutMs,
      context: this.#relay,
    });
    if (upstream === undefined) return;
    // The GET stream carries server requests and notifications untouched; a resumed
    // stream (Last-Event-ID) may also replay answers to watched requests.
    const context = this.#messageContext(this.#sessions.get(sessionId), undefined);
    res.writeHead(upstream.statusCode, clientResponseHeaders(upstream.headers, false));
    res.flushHeaders();
    this.#streams.add(upstream.body);
    // The server or the client went away: end the client's stream; it reconnects.
    await relaySseEvents(upstream.body, res, this.#eventHandlers(context, undefined, noop));
    this.#streams.delete(upstream.body);
    discard(upstream.body);
    if (!res.writableEnded) res.end();
  }

  async #passThrough(req: IncomingMessage, res: ServerResponse, target: UpstreamTarget, options: { isDelete: boolean; body?: Buffer; anonymous?: boolean }): Promise<void> {
    const sessionId = singleHeader(req.headers["mcp-session-id"]);
    // Discovery documents are read before a client can authenticate.
    if (options.anonymous !== true && (await resolveIdentity(this.#core, req, res, sessionId ?? "")) === undefined) {
      req.resume();
      return;
    }
    const abort = abortWhenClientLeaves(res);
    let upstream: UpstreamResponse;
    // Only a body the sidecar has read is forwarded; any other is dropped.
    if (options.body === undefined) req.resume();
    try {
      upstream = await this.#agent.request({
        ...target,
        method: (req.method ?? "GET"),
        headers: upstreamRequestHeaders(req.headers),
        ...(options.body === undefined ? {} : { body: options.body }),
        signal: abort.signal,
        headersTimeout: this.#core.upstreamTimeoutMs,
        bodyTimeout: this.#core.upstreamTimeoutMs,
      });
    } catch (error) {
      this.#core.logger.warn({ err: error }, "the upstream could not be reached");
      sendJsonRpcError(res, 502, CONNECTION_CLOSED, "the MCP server could not be reached");
      return;
    }
    if (refuseRedirect(upstream, res, this.#relay)) return;
    if (options.isDelete && upstream.statusCode < 300) this.#sessions.delete(sessionId);
    await relayUntouched(upstream, res, this.#relay);
  }

  #answerFailure(
    res: ServerResponse,
    intake: Intake,
    pending: PendingRequests,
    failure: Failure,
    headers: Record<string, string | string[]>,
    early: EarlySseReply | undefined,
  ): void {
    const ids = pending.remaining();
    if (ids.length === 0 && intake.plan.answers.length === 0 && early === undefined) {
      const code = failure.kind === "timeout" ? REQUEST_TIMEOUT : failure.kind === "redirect" || failure.kind === "too_large" ? INTERNAL_ERROR : CONNECTION_CLOSED;
      sendJsonRpcError(res, failure.kind === "timeout" ? 504 : 502, code, this.#failureMessage(failure));
      return;
    }
    const failures = ids.map((id) => this.#failureResponse(id, failure));
    sendReply(res, early, 200, mergeReplies(intake, failures), stringHeaders(headers));
  }

  #failureMessage(failure: Failure): string {
    switch (failure.kind) {
      case "timeout":
        return `the MCP server did not answer within ${Math.round(this.#core.upstreamTimeoutMs / 1000)} s`;
      case "unreachable":
        return "the MCP server could not be reached";
      case "refused":
        return "the MCP server refused the request";
      case "closed":
        return "the MCP server closed the connection before answering";
      case "redirect":
        return redirectMessage(failure.status);
      case "too_large":
        return `the MCP server's reply exceeds --max-inspected-reply-bytes (${this.#core.limits.maxInspectedReplyBytes} bytes); the sidecar reads such a reply whole to check it, so it was not relayed`;
    }
  }

  #failureResponse(id: JsonRpcId, failure: Failure): object {
    const code = failure.kind === "timeout" ? REQUEST_TIMEOUT : failure.kind === "redirect" || failure.kind === "too_large" ? INTERNAL_ERROR : CONNECTION_CLOSED;
    return errorResponse(id, code, this.#failureMessage(failure));
  }
}

/**
 * What a body sent to a forwarded path is: JSON-RPC (decided like the MCP endpoint's),
 * opaque (not JSON: forwarded as it is), or JSON that does not parse strictly (refused).
 */
function forwardedBodyKind(body: Buffer, maxDepth: number): "json-rpc" | "opaque" | { readonly problem: string } {
  let at = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  while (at < body.length && (body[at] === 0x20 || body[at] === 0x09 || body[at] === 0x0a || body[at] === 0x0d)) at++;
  if (body[at] !== 0x7b && body[at] !== 0x5b) return "opaque";
  const text = new TextDecoder("utf-8", { fatal: false }).decode(body.subarray(at));
  const parsed = parseStrictJson(text, maxDepth);
  if (!parsed.ok) return { problem: parsed.problem };
  const looksLikeMessage = (value: unknown): boolean =>
    typeof value === "object" && value !== null && !Array.isArray(value) && (Object.hasOwn(value, "jsonrpc") || Object.hasOwn(value, "method"));
  const value = parsed.value;
  return (Array.isArray(value) ? value.some(looksLikeMessage) : looksLikeMessage(value)) ? "json-rpc" : "opaque";
}

function withoutLineBreaks(chunk: Buffer): Buffer {
  if (!chunk.includes(0x0a) && !chunk.includes(0x0d)) return chunk;
  const copy = Buffer.from(chunk);
  for (let i = 0; i < copy.length; i++) if (copy[i] === 0x0a || copy[i] === 0x0d) copy[i] = 0x20;
  return copy;
}

function emptyIterator(): AsyncIterator<unknown> {
  return { next: async () => ({ done: true, value: undefined }) };
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function clientResponseHeadersOnly(upstream: UpstreamResponse): Record<string, string> {
  const headers = clientResponseHeaders(upstream.headers, false);
  delete headers["content-type"];
  return stringHeaders(headers);
}

function stringHeaders(headers: Record<string, string | string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = Array.isArray(value) ? value.join(", ") : value;
  return out;
}

function isTimeout(error: unknown): boolean {
  return error instanceof UpstreamTimeoutError;
}

function noop(): void {}
