// The legacy HTTP+SSE transport (2024-11-05) in front of an HTTP upstream. The client
// opens GET /sse; the server's first event names where to POST messages, and the
// sidecar rewrites it to its own /messages?sessionId=<id> so every message passes
// through it. Replies travel on the event stream, so the sidecar's refusals do too (as
// the server's would), and so does progress while a call is held for approval; each POST
// is answered 202.

import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { UpstreamAgent, UpstreamBody, UpstreamResponse } from "./upstream-agent.ts";
import { CONNECTION_CLOSED, errorResponse, INTERNAL_ERROR, REQUEST_TIMEOUT } from "../../jsonrpc/error-codes.ts";
import { idKey, type JsonRpcId } from "../../jsonrpc/message.ts";
import { abortWhenClientLeaves } from "../intake/client-leaves.ts";
import { resolveIdentity } from "../intake/intake-post.ts";
import { serialiseForward } from "../intake/plan-messages.ts";
import { receivePost } from "../intake/receive-post.ts";
import { LEGACY_MESSAGES_PATH } from "../intake/request-target.ts";
import type { ProxyCore } from "../proxy-core.ts";
import { sendJsonRpcError, sseMessageEvent } from "../replies/http-replies.ts";
import { relaySseEvents } from "../replies/relay-sse-events.ts";
import { ResponseWatch } from "../replies/response-watch.ts";
import { processServerMessage, sessionMessageContext } from "../replies/server-message.ts";
import type { UpstreamEndpoints, UpstreamTarget } from "./upstream-endpoints.ts";
import { clientResponseHeaders, discard, openUpstreamEventStream, readUpstreamBody, upstreamRequestHeaders, type RelayContext } from "./upstream-http.ts";
import { isRedirect, redirectMessage, type RedirectLog } from "./upstream-redirect.ts";

interface LegacySession {
  readonly id: string;
  readonly res: ServerResponse;
  readonly upstreamBody: UpstreamBody;
  readonly postTarget: UpstreamTarget;
  readonly watch: ResponseWatch;
  protocolVersion: string | undefined;
  /** Forwarded requests not yet answered on the stream, with their timeout timers. */
  readonly pending: Map<string, { id: JsonRpcId; timer: NodeJS.Timeout }>;
  /** Aborts when the client's event stream closes: nothing can reach the client any more. */
  readonly gone: AbortController;
}

export class LegacySseRelay {
  readonly #core: ProxyCore;
  readonly #endpoints: UpstreamEndpoints;
  readonly #agent: UpstreamAgent;
  readonly #relay: RelayContext;
  readonly #sessions = new Map<string, LegacySession>();

  constructor(core: ProxyCore, endpoints: UpstreamEndpoints, agent: UpstreamAgent, redirects: RedirectLog) {
    this.#core = core;
    this.#endpoints = endpoints;
    this.#agent = agent;
    this.#relay = { logger: core.logger, redirects, idleTimeoutMs: core.upstreamTimeoutMs };
    core.countSessions(() => this.#sessions.size);
  }

  closeAll(): void {
    for (const session of this.#sessions.values()) {
      session.upstreamBody.destroy();
      if (!session.res.writableEnded) session.res.end();
    }
    this.#sessions.clear();
  }

  async openStream(req: IncomingMessage, res: ServerResponse, search: string): Promise<void> {
    if ((await resolveIdentity(this.#core, req, res, "")) === undefined) return;
    // Every event stream is a session: it opens only when there is room for one.
    if (!this.#core.sessionRoom()) {
      this.#core.refuseSession(res, undefined, null);
      return;
    }
    const abort = abortWhenClientLeaves(res);
    const upstream = await openUpstreamEventStream(this.#agent, this.#endpoints.sse(search), req, res, {
      signal: abort.signal,
      headersTimeoutMs: this.#core.upstreamTimeoutMs,
      context: this.#relay,
    });
    if (upstream === undefined) return;
    res.writeHead(upstream.statusCode, clientResponseHeaders(upstream.headers, false));
    res.flushHeaders();
    let session: LegacySession | undefined;
    const watches = (): ResponseWatch[] => (session === undefined ? [] : [session.watch]);
    await relaySseEvents(upstream.body, res, {
      inspectLimit: this.#core.limits.maxInspectedReplyBytes,
      mustInspect: () => watches().some((watch) => watch.size > 0),
      isWatched: (id) => watches().some((watch) => watch.has(id)),
      onEvent: (event) => {
        if (session === undefined && event.type === "endpoint" && event.data !== undefined) {
          const postTarget = this.#endpoints.legacyMessages(event.data);
          if (postTarget === undefined) {
            // The server names another origin for its messages: never followed.
            this.#core.logger.warn({ endpoint: event.data.slice(0, 200) }, "the upstream's legacy SSE endpoint names another origin; the stream is ended");
            upstream.body.destroy();
            return sseMessageEvent(JSON.stringify(errorResponse(null, INTERNAL_ERROR, "the MCP server named a message endpoint on another origin, which the sidecar does not follow")));
          }
          session = this.#startSession(postTarget, res, upstream.body);
          return `event: endpoint\ndata: ${LEGACY_MESSAGES_PATH}?sessionId=${session.id}\n\n`;
        }
        if (session === undefined || event.type !== "message" || event.data === undefined || event.data === "") return undefined;
        const outcome = processServerMessage(event.data, sessionMessageContext(this.#core, session));
        for (const id of outcome.responseIds) this.#answered(session, id);
        return outcome.text === event.data ? undefined : sseMessageEvent(outcome.text);
      },
      onStreamed: (messages) => {
        if (session === undefined) return;
        for (const message of messages) if (!message.hasMethod && message.id !== undefined) this.#answered(session, message.id);
      },
      onWithheld: (messages) => {
        let out = "";
        for (const message of messages) {
          if (session === undefined || message.hasMethod || message.id === undefined) continue;
          session.watch.take(message.id);
          this.#answered(session, message.id);
          const why = `the MCP server's reply exceeds --max-inspected-reply-bytes (${this.#core.limits.maxInspectedReplyBytes} bytes); the sidecar reads such a reply whole to check it, so it was not relayed`;
          out += sseMessageEvent(JSON.stringify(errorResponse(message.id, INTERNAL_ERROR, why)));
        }
        return out;
      },
    });
    // The server went away (or the client did): answer what is pending, end the stream.
    discard(upstream.body);
    if (session !== undefined) this.#endSession(session, "the MCP server closed the event stream before answering");
    if (!res.writableEnded) res.end();
  }

  #startSession(postTarget: UpstreamTarget, res: ServerResponse, upstreamBody: UpstreamBody): LegacySession {
    const session: LegacySession = {
      id: randomUUID(),
      res,
      upstreamBody,
      postTarget,
      watch: new ResponseWatch(),
      protocolVersion: undefined,
      pending: new Map(),
      gone: new AbortController(),
    };
    // Whoever ends the stream (the client, the server, close()), its calls held for approval
    // are not made.
    res.once("close", () => {
      session.gone.abort();
      this.#endSession(session, "the client closed the event stream");
    });
    this.#sessions.set(session.id, session);
    return session;
  }

  #answered(session: LegacySession, id: JsonRpcId): void {
    const entry = session.pending.get(idKey(id));
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    session.pending.delete(idKey(id));
  }

  #endSession(session: LegacySession, why: string): void {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    for (const { id, timer } of session.pending.values()) {
      clearTimeout(timer);
      this.#inject(session, errorResponse(id, CONNECTION_CLOSED, why));
    }
    session.pending.clear();
  }

  /** Writes a message on the session's stream; false when the stream is gone. */
  #inject(session: LegacySession, message: object): boolean {
    if (session.res.writableEnded || session.res.destroyed) return false;
    session.res.write(sseMessageEvent(JSON.stringify(message)));
    return true;
  }

  async post(req: IncomingMessage, res: ServerResponse, search: string): Promise<void> {
    const id = new URLSearchParams(search).get("sessionId") ?? "";
    const session = this.#sessions.get(id);
    if (session === undefined) {
      req.resume();
      sendJsonRpcError(res, 404, CONNECTION_CLOSED, "Session not found");
      return;
    }
    const notifier = { notify: (message: object): boolean => this.#inject(session, message) };
    const post = await receivePost(this.#core, req, res, { sessionId: session.id, protocolVersion: session.protocolVersion, progress: notifier, sessionGone: session.gone.signal });
    if (post === undefined) return;
    const { plan } = post.intake;
    post.observed();
    for (const answer of plan.answers) this.#inject(session, answer.response);
    if (plan.forward.length === 0 || session.gone.signal.aborted) {
      if (plan.forward.length > 0) this.#core.logger.info({ method: post.method }, "the client left while its POST was decided; nothing of it was forwarded");
      res.writeHead(202).end("Accepted");
      return;
    }
    post.watchAnswers(session.watch);
    for (const message of plan.forward) {
      if (message.kind !== "request") continue;
      const key = idKey(message.id);
      const requestId = message.id;
      const timer = setTimeout(() => {
        if (session.pending.delete(key)) {
          this.#inject(session, errorResponse(requestId, REQUEST_TIMEOUT, `the MCP server did not answer within ${Math.round(this.#core.upstreamTimeoutMs / 1000)} s`));
        }
      }, this.#core.upstreamTimeoutMs);
      timer.unref();
      session.pending.set(key, { id: requestId, timer });
    }
    let upstream: UpstreamResponse;
    const forwarded = performance.now();
    const traced = post.trace?.upstream(session.postTarget.origin);
    try {
      upstream = await this.#agent.request({
        ...session.postTarget,
        method: "POST",
        headers: upstreamRequestHeaders(req.headers, { "content-type": "application/json", ...traced?.headers }),
        body: serialiseForward(plan.forward, post.intake.batch),
        headersTimeout: this.#core.upstreamTimeoutMs,
        bodyTimeout: this.#core.upstreamTimeoutMs,
      });
    } catch (error) {
      traced?.end(undefined, "the upstream could not be reached");
      this.#core.logger.warn({ err: error }, "the upstream could not be reached");
      this.#failForwarded(session, plan.forward, "the MCP server could not be reached");
      res.writeHead(202).end("Accepted");
      return;
    }
    if (isRedirect(upstream.statusCode)) {
      traced?.end(upstream.statusCode, "the upstream redirected; redirects are refused");
      this.#relay.redirects.note(this.#core.logger, upstream.statusCode, upstream.headers["location"]);
      discard(upstream.body);
      this.#failForwarded(session, plan.forward, redirectMessage(upstream.statusCode));
      sendJsonRpcError(res, 502, INTERNAL_ERROR, redirectMessage(upstream.statusCode));
      return;
    }
    if (upstream.statusCode >= 300) {
      // The server refused the message itself: nothing will answer it on the stream.
      this.#failForwarded(session, plan.forward, `the MCP server refused the message (HTTP ${upstream.statusCode})`);
    }
    // The answers travel on the event stream; this reply is an acknowledgement.
    const body = await readUpstreamBody(upstream.body, 64 * 1024);
    this.#core.observe("upstream", post.method, forwarded);
    traced?.end(upstream.statusCode);
    if (res.headersSent || res.destroyed) return;
    res.writeHead(upstream.statusCode, clientResponseHeaders(upstream.headers, false));
    res.end(body.ok ? body.bytes : "");
  }

  #failForwarded(session: LegacySession, forward: readonly { kind: string; id?: JsonRpcId | null }[], why: string): void {
    for (const message of forward) {
      if (message.kind !== "request" || message.id === undefined || message.id === null) continue;
      const entry = session.pending.get(idKey(message.id));
      if (entry === undefined) continue;
      clearTimeout(entry.timer);
      session.pending.delete(idKey(message.id));
      this.#inject(session, errorResponse(entry.id, CONNECTION_CLOSED, why));
    }
  }
}
