// Streamable HTTP in front of an HTTP upstream: POST (JSON or SSE replies), the GET
// stream, DELETE, and anything else passed through. The upstream owns sessions; the
// sidecar passes Mcp-Session-Id, MCP-Protocol-Version and Last-Event-ID through and only
// remembers what it must (a session's protocol version, its watched requests).

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Agent, Dispatcher } from "undici";
import { CONNECTION_CLOSED, errorResponse, REQUEST_TIMEOUT } from "../../jsonrpc/error-codes.ts";
import { idKey, type JsonRpcId, type JsonRpcMessage } from "../../jsonrpc/message.ts";
import { EarlySseReply, sendReply } from "../replies/early-sse-reply.ts";
import { resolveIdentity, intakePost, type Intake } from "../intake/intake-post.ts";
import { sendJsonRpcError, sseMessageEvent, writeWithBackpressure } from "../replies/http-replies.ts";
import { mergeReplies } from "../replies/merge-replies.ts";
import type { HttpUpstream } from "../options.ts";
import { serialiseForward, timedMethod } from "../intake/plan-messages.ts";
import type { ProxyCore } from "../proxy-core.ts";
import { abortWhenClientLeaves } from "../intake/client-leaves.ts";
import { hasLongLivedRequest } from "../replies/long-lived-requests.ts";
import { ResponseWatch } from "../replies/response-watch.ts";
import { processServerMessage, type ServerMessageContext } from "../replies/server-message.ts";
import { SessionRegistry, type SessionState } from "./session-registry.ts";
import { replaceEventData, SseParser } from "../replies/sse-parser.ts";
import {
  clientResponseHeaders,
  headerValue,
  mediaType,
  openUpstreamEventStream,
  readUpstreamBody,
  relayUntouched,
  upstreamRequestHeaders,
} from "./upstream-http.ts";

/** Where a request for `path` goes: the configured endpoint for /mcp, the same path otherwise. */
export function upstreamTarget(upstream: HttpUpstream, requestUrl: string): URL {
  const base = new URL(upstream.url);
  const incoming = new URL(requestUrl, "http://sidecar.invalid");
  if (incoming.pathname === "/mcp") {
    const target = new URL(base);
    for (const [name, value] of incoming.searchParams) target.searchParams.append(name, value);
    return target;
  }
  return new URL(incoming.pathname + incoming.search, base.origin);
}

/** upstreamTarget as undici wants it; the plain /mcp case (almost every request) computed once. */
function targetFor(upstream: HttpUpstream, requestUrl: string | undefined, plain: { origin: string; path: string }): { origin: string; path: string } {
  if (requestUrl === undefined || requestUrl === "/mcp") return plain;
  return requestTarget(upstreamTarget(upstream, requestUrl));
}

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

export class StreamableHttpRelay {
  readonly #core: ProxyCore;
  readonly #upstream: HttpUpstream;
  readonly #agent: Agent;
  readonly #sessions: SessionRegistry;
  readonly #streams = new Set<Dispatcher.ResponseData["body"]>();
  readonly #plainTarget: { origin: string; path: string };

  constructor(core: ProxyCore, upstream: HttpUpstream, agent: Agent) {
    this.#core = core;
    this.#upstream = upstream;
    this.#agent = agent;
    this.#sessions = new SessionRegistry(core.sessionIdleTimeoutMs, core.now);
    this.#plainTarget = requestTarget(upstreamTarget(upstream, "/mcp"));
  }

  /** Ends every relayed stream (close()). */
  closeStreams(): void {
    for (const body of this.#streams) body.destroy();
    this.#streams.clear();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    switch (req.method) {
      case "POST":
        return this.#post(req, res);
      case "GET":
        return this.#get(req, res);
      case "DELETE":
        return this.#passThrough(req, res, true);
      case "OPTIONS":
      case "HEAD":
        // CORS preflights and probes carry no message.
        return this.#passThrough(req, res, false);
      default:
        // Another method could carry a message the sidecar never decided: refused.
        req.resume();
        sendJsonRpcError(res, 405, CONNECTION_CLOSED, "Method not allowed.", null, { allow: "GET, POST, DELETE" });
    }
  }

  async #post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = performance.now();
    const sessionId = singleHeader(req.headers["mcp-session-id"]);
    const state = this.#sessions.get(sessionId);
    const sessionHeader: Record<string, string> = sessionId === undefined ? {} : { "mcp-session-id": sessionId };
    // A call held for approval may turn the reply into an event stream, to carry progress.
    const notifier = EarlySseReply.offer(req.headers.accept, res, sessionHeader);
    // Watched from the start: a call held for approval whose client leaves is not made.
    const abort = abortWhenClientLeaves(res);
    const intake = await intakePost(this.#core, req, res, { id: sessionId ?? "", protocolVersion: state?.protocolVersion, notifier, clientGone: abort.signal });
    if (intake === undefined) return;
    const { plan } = intake;
    const early = notifier?.opened === true ? notifier : undefined;
    const method = timedMethod(intake.messages);
    if (plan.forward.length === 0 || abort.signal.aborted) {
      if (plan.forward.length > 0) this.#core.logger.info({ method }, "the client left while its POST was decided; nothing of it was forwarded");
      sendReply(res, early, 200, mergeReplies(intake, []), sessionHeader);
      this.#core.observe("request", method, arrived);
      return;
    }
    const watch = new ResponseWatch();
    for (const id of plan.toolsListIds) {
      watch.add(id, "tools/list");
      state?.watch.add(id, "tools/list");
    }
    for (const id of plan.initializeIds) watch.add(id, "initialize");
    const pending = new PendingRequests(plan.forward);
    let upstream: Dispatcher.ResponseData;
    const forwarded = performance.now();
    this.#core.observe("request", method, arrived);
    try {
      upstream = await this.#agent.request({
        ...targetFor(this.#upstream, req.url, this.#plainTarget),
        method: "POST",
        headers: upstreamRequestHeaders(req.headers, { "content-type": "application/json" }),
        body: serialiseForward(plan.forward, intake.batch),
        signal: abort.signal,
        headersTimeout: this.#core.upstreamTimeoutMs,
        bodyTimeout: 0,
      });
    } catch (error) {
      const timedOut = isTimeout(error);
      this.#core.logger.warn({ err: error }, timedOut ? "the upstream did not answer in time" : "the upstream could not be reached");
      this.#answerFailure(res, intake, pending, timedOut ? "timeout" : "unreachable", sessionHeader, early);
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
      if (upstream.statusCode < 300 && plan.answers.length > 0) {
        // Notifications accepted (202) next to requests the sidecar refused: answer those.
        upstream.body.resume();
        sendReply(res, early, 200, mergeReplies(intake, []), clientResponseHeadersOnly(upstream));
        return;
      }
      if (early !== undefined) {
        // The stream's status line is sent: the client learns of the refusal per request.
        upstream.body.resume();
        this.#core.logger.warn({ status: upstream.statusCode, type }, "the upstream refused a POST whose reply was already streaming");
        this.#answerFailure(res, intake, pending, "refused", {}, early);
        return;
      }
      await relayUntouched(upstream, res);
      return;
    }
    if (type === "application/json") {
      await this.#relayJson(upstream, res, intake, pending, context, early, () => this.#core.observe("upstream", method, forwarded));
      return;
    }
    this.#core.observe("upstream", method, forwarded);
    await this.#relaySse(upstream, res, intake, pending, context, abort);
  }

  #messageContext(session: SessionState | undefined, watch: ResponseWatch | undefined): ServerMessageContext {
    const watches = [watch, session?.watch].filter((entry): entry is ResponseWatch => entry !== undefined);
    return {
      watches,
      table: () => this.#core.table(),
      knownTools: this.#core.knownTools,
      maxDepth: this.#core.limits.maxDepth,
      onInitialized: (version) => {
        if (session !== undefined) session.protocolVersion = version;
      },
    };
  }

  async #relayJson(
    upstream: Dispatcher.ResponseData,
    res: ServerResponse,
    intake: Intake,
    pending: PendingRequests,
    context: ServerMessageContext,
    early: EarlySseReply | undefined,
    onBody: () => void,
  ): Promise<void> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      upstream.body.destroy();
    }, this.#core.upstreamTimeoutMs);
    timer.unref();
    const bytes = await readUpstreamBody(upstream.body, this.#core.limits.maxUpstreamJsonBytes, upstream.headers["content-length"]);
    clearTimeout(timer);
    onBody();
    if (bytes === undefined) {
      this.#answerFailure(res, intake, pending, timedOut ? "timeout" : "closed", clientResponseHeadersOnly(upstream), early);
      return;
    }
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
      this.#answerFailure(res, intake, pending, "closed", clientResponseHeadersOnly(upstream), early);
      return;
    }
    sendReply(res, early, upstream.statusCode, mergeReplies(intake, Array.isArray(replies) ? replies : [replies]), clientResponseHeadersOnly(upstream));
  }

  async #relaySse(
    upstream: Dispatcher.ResponseData,
    res: ServerResponse,
    intake: Intake,
    pending: PendingRequests,
    context: ServerMessageContext,
    abort: AbortController,
  ): Promise<void> {
    if (res.destroyed) {
      // Destroyed unread, undici's body emits an abort error: heard here, not thrown.
      upstream.body.on("error", noop);
      upstream.body.destroy();
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
    const parser = new SseParser();
    let failed = false;
    try {
      for await (const chunk of upstream.body) {
        for (const event of parser.push(chunk as Buffer)) await this.#relayEvent(event, res, context, pending, arm);
        if (res.destroyed) break;
      }
      for (const event of parser.end()) await this.#relayEvent(event, res, context, pending, arm);
    } catch {
      failed = true;
    } finally {
      clearTimeout(timer);
      this.#streams.delete(upstream.body);
    }
    if (res.destroyed || abort.signal.aborted) {
      upstream.body.destroy();
      return;
    }
    // A stream that ended cleanly may be a server closing it on purpose (SSE polling: the
    // client resumes with Last-Event-ID). A broken or silent one gets errors for what it
    // left unanswered.
    if (failed || timedOut) {
      for (const id of pending.remaining()) res.write(sseMessageEvent(JSON.stringify(failureResponse(id, timedOut ? "timeout" : "closed", this.#core))));
    }
    res.end();
  }

  async #relayEvent(
    event: ReturnType<SseParser["push"]>[number],
    res: ServerResponse,
    context: ServerMessageContext,
    pending: PendingRequests | undefined,
    arm: () => void,
  ): Promise<void> {
    let text = event.raw;
    if (event.type === "message" && event.data !== undefined && event.data !== "") {
      const outcome = processServerMessage(event.data, context);
      for (const id of outcome.responseIds) pending?.answered(id);
      if (outcome.text !== event.data) text = replaceEventData(event, outcome.text);
      arm();
    }
    await writeWithBackpressure(res, text);
  }

  async #get(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionId = singleHeader(req.headers["mcp-session-id"]);
    if ((await resolveIdentity(this.#core, req, res, sessionId ?? "")) === undefined) return;
    const abort = abortWhenClientLeaves(res);
    const upstream = await openUpstreamEventStream(this.#agent, targetFor(this.#upstream, req.url, this.#plainTarget), req, res, {
      signal: abort.signal,
      headersTimeoutMs: this.#core.upstreamTimeoutMs,
      logger: this.#core.logger,
    });
    if (upstream === undefined) return;
    // The GET stream carries server requests and notifications untouched; a resumed
    // stream (Last-Event-ID) may also replay answers to watched requests.
    const context = this.#messageContext(this.#sessions.get(sessionId), undefined);
    res.writeHead(upstream.statusCode, clientResponseHeaders(upstream.headers, false));
    res.flushHeaders();
    this.#streams.add(upstream.body);
    const parser = new SseParser();
    try {
      for await (const chunk of upstream.body) {
        for (const event of parser.push(chunk as Buffer)) await this.#relayEvent(event, res, context, undefined, noop);
        if (res.destroyed) break;
      }
    } catch {
      // The server or the client went away: end the client's stream; it reconnects.
    } finally {
      this.#streams.delete(upstream.body);
    }
    upstream.body.destroy();
    if (!res.writableEnded) res.end();
  }

  async #passThrough(req: IncomingMessage, res: ServerResponse, isDelete: boolean): Promise<void> {
    const sessionId = singleHeader(req.headers["mcp-session-id"]);
    if ((await resolveIdentity(this.#core, req, res, sessionId ?? "")) === undefined) {
      req.resume();
      return;
    }
    const abort = abortWhenClientLeaves(res);
    let upstream: Dispatcher.ResponseData;
    // Only a POST's body is read and decided; any other body is dropped, never forwarded.
    req.resume();
    try {
      upstream = await this.#agent.request({
        ...targetFor(this.#upstream, req.url, this.#plainTarget),
        method: (req.method ?? "GET") as Dispatcher.HttpMethod,
        headers: upstreamRequestHeaders(req.headers),
        signal: abort.signal,
        headersTimeout: this.#core.upstreamTimeoutMs,
        bodyTimeout: this.#core.upstreamTimeoutMs,
      });
    } catch (error) {
      this.#core.logger.warn({ err: error }, "the upstream could not be reached");
      sendJsonRpcError(res, 502, CONNECTION_CLOSED, "the MCP server could not be reached");
      return;
    }
    if (isDelete && upstream.statusCode < 300) this.#sessions.delete(sessionId);
    await relayUntouched(upstream, res);
  }

  #answerFailure(
    res: ServerResponse,
    intake: Intake,
    pending: PendingRequests,
    why: FailureKind,
    headers: Record<string, string | string[]>,
    early: EarlySseReply | undefined,
  ): void {
    const ids = pending.remaining();
    if (ids.length === 0 && intake.plan.answers.length === 0 && early === undefined) {
      sendJsonRpcError(res, why === "timeout" ? 504 : 502, CONNECTION_CLOSED, failureMessage(why, this.#core));
      return;
    }
    const failures = ids.map((id) => failureResponse(id, why, this.#core));
    sendReply(res, early, 200, mergeReplies(intake, failures), stringHeaders(headers));
  }
}

type FailureKind = "timeout" | "closed" | "unreachable" | "refused";

function failureMessage(why: FailureKind, core: ProxyCore): string {
  switch (why) {
    case "timeout":
      return `the MCP server did not answer within ${Math.round(core.upstreamTimeoutMs / 1000)} s`;
    case "unreachable":
      return "the MCP server could not be reached";
    case "refused":
      return "the MCP server refused the request";
    default:
      return "the MCP server closed the connection before answering";
  }
}

function failureResponse(id: JsonRpcId, why: FailureKind, core: ProxyCore): object {
  return errorResponse(id, why === "timeout" ? REQUEST_TIMEOUT : CONNECTION_CLOSED, failureMessage(why, core));
}

function requestTarget(url: URL): { origin: string; path: string } {
  return { origin: url.origin, path: url.pathname + url.search };
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function clientResponseHeadersOnly(upstream: Dispatcher.ResponseData): Record<string, string> {
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
  const code = (error as { code?: unknown } | null)?.code;
  return code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT";
}

function noop(): void {}
