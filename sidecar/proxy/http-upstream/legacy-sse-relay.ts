// The legacy HTTP+SSE transport (2024-11-05) in front of an HTTP upstream. The client
// opens GET /sse; the server's first event names where to POST messages, and the
// sidecar rewrites it to its own /messages?sessionId=<id> so every message passes
// through it. Replies travel on the event stream, so the sidecar's refusals do too (as
// the server's would), and so does progress while a call is held for approval; each POST
// is answered 202.

import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Agent, Dispatcher } from "undici";
import { CONNECTION_CLOSED, errorResponse, REQUEST_TIMEOUT } from "../../jsonrpc/error-codes.ts";
import { idKey, type JsonRpcId } from "../../jsonrpc/message.ts";
import { sendJsonRpcError, sseMessageEvent } from "../replies/http-replies.ts";
import { intakePost, resolveIdentity } from "../intake/intake-post.ts";
import type { HttpUpstream } from "../options.ts";
import { serialiseForward, timedMethod } from "../intake/plan-messages.ts";
import type { ProxyCore } from "../proxy-core.ts";
import { abortWhenClientLeaves } from "../intake/client-leaves.ts";
import { ResponseWatch } from "../replies/response-watch.ts";
import { processServerMessage, sessionMessageContext } from "../replies/server-message.ts";
import { SseParser, type SseEvent } from "../replies/sse-parser.ts";
import { clientResponseHeaders, openUpstreamEventStream, readUpstreamBody, upstreamRequestHeaders } from "./upstream-http.ts";

export const LEGACY_MESSAGES_PATH = "/messages";

interface LegacySession {
  readonly id: string;
  readonly res: ServerResponse;
  readonly upstreamBody: Dispatcher.ResponseData["body"];
  readonly postUrl: URL;
  readonly watch: ResponseWatch;
  protocolVersion: string | undefined;
  /** Forwarded requests not yet answered on the stream, with their timeout timers. */
  readonly pending: Map<string, { id: JsonRpcId; timer: NodeJS.Timeout }>;
  /** Aborts when the client's event stream closes: nothing can reach the client any more. */
  readonly gone: AbortController;
}

export class LegacySseRelay {
  readonly #core: ProxyCore;
  readonly #upstream: HttpUpstream;
  readonly #agent: Agent;
  readonly #sessions = new Map<string, LegacySession>();

  constructor(core: ProxyCore, upstream: HttpUpstream, agent: Agent) {
    this.#core = core;
    this.#upstream = upstream;
    this.#agent = agent;
  }

  owns(url: string): boolean {
    const id = new URL(url, "http://sidecar.invalid").searchParams.get("sessionId");
    return id !== null && this.#sessions.has(id);
  }

  closeAll(): void {
    for (const session of this.#sessions.values()) {
      session.upstreamBody.destroy();
      if (!session.res.writableEnded) session.res.end();
    }
    this.#sessions.clear();
  }

  async openStream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if ((await resolveIdentity(this.#core, req, res, "")) === undefined) return;
    const sseUrl = new URL(this.#upstream.sseUrl ?? new URL("/sse", this.#upstream.url).href);
    const incoming = new URL(req.url ?? "/sse", "http://sidecar.invalid");
    for (const [name, value] of incoming.searchParams) sseUrl.searchParams.append(name, value);
    const abort = abortWhenClientLeaves(res);
    const upstream = await openUpstreamEventStream(this.#agent, { origin: sseUrl.origin, path: sseUrl.pathname + sseUrl.search }, req, res, {
      signal: abort.signal,
      headersTimeoutMs: this.#core.upstreamTimeoutMs,
      logger: this.#core.logger,
    });
    if (upstream === undefined) return;
    res.writeHead(upstream.statusCode, clientResponseHeaders(upstream.headers, false));
    res.flushHeaders();
    const parser = new SseParser();
    let session: LegacySession | undefined;
    try {
      for await (const chunk of upstream.body) {
        for (const event of parser.push(chunk as Buffer)) {
          if (session === undefined && event.type === "endpoint" && event.data !== undefined) {
            session = this.#startSession(event.data, sseUrl, res, upstream.body);
            res.write(`event: endpoint\ndata: ${LEGACY_MESSAGES_PATH}?sessionId=${session.id}\n\n`);
            continue;
          }
          this.#relayEvent(event, session, res);
        }
        if (res.destroyed) break;
      }
    } catch {
      // The server went away (or the client did): answer what is pending, end the stream.
    }
    upstream.body.destroy();
    if (session !== undefined) this.#endSession(session, "the MCP server closed the event stream before answering");
    if (!res.writableEnded) res.end();
  }

  #startSession(endpoint: string, sseUrl: URL, res: ServerResponse, upstreamBody: Dispatcher.ResponseData["body"]): LegacySession {
    const session: LegacySession = {
      id: randomUUID(),
      res,
      upstreamBody,
      postUrl: new URL(endpoint.trim(), sseUrl),
      watch: new ResponseWatch(),
      protocolVersion: undefined,
      pending: new Map(),
      gone: new AbortController(),
    };
    // Whoever ends the stream (the client, the server, close()), its calls held for approval
    // are not made.
    res.once("close", () => session.gone.abort());
    this.#sessions.set(session.id, session);
    return session;
  }

  #relayEvent(event: SseEvent, session: LegacySession | undefined, res: ServerResponse): void {
    if (session === undefined || event.type !== "message" || event.data === undefined || event.data === "") {
      res.write(event.raw);
      return;
    }
    const outcome = processServerMessage(event.data, sessionMessageContext(this.#core, session));
    for (const id of outcome.responseIds) {
      const entry = session.pending.get(idKey(id));
      if (entry === undefined) continue;
      clearTimeout(entry.timer);
      session.pending.delete(idKey(id));
    }
    res.write(outcome.text === event.data ? event.raw : sseMessageEvent(outcome.text));
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

  async post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = performance.now();
    const id = new URL(req.url ?? "", "http://sidecar.invalid").searchParams.get("sessionId") ?? "";
    const session = this.#sessions.get(id);
    if (session === undefined) {
      req.resume();
      sendJsonRpcError(res, 404, CONNECTION_CLOSED, "Session not found");
      return;
    }
    const notifier = { notify: (message: object): boolean => this.#inject(session, message) };
    const intake = await intakePost(this.#core, req, res, { id: session.id, protocolVersion: session.protocolVersion, notifier, clientGone: session.gone.signal });
    if (intake === undefined) return;
    const { plan } = intake;
    const method = timedMethod(intake.messages);
    this.#core.observe("request", method, arrived);
    for (const answer of plan.answers) this.#inject(session, answer.response);
    if (plan.forward.length === 0 || session.gone.signal.aborted) {
      if (plan.forward.length > 0) this.#core.logger.info({ method }, "the client left while its POST was decided; nothing of it was forwarded");
      res.writeHead(202).end("Accepted");
      return;
    }
    for (const requestId of plan.toolsListIds) session.watch.add(requestId, "tools/list");
    for (const requestId of plan.initializeIds) session.watch.add(requestId, "initialize");
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
    let upstream: Dispatcher.ResponseData;
    const forwarded = performance.now();
    try {
      upstream = await this.#agent.request({
        origin: session.postUrl.origin,
        path: session.postUrl.pathname + session.postUrl.search,
        method: "POST",
        headers: upstreamRequestHeaders(req.headers, { "content-type": "application/json" }),
        body: serialiseForward(plan.forward, intake.batch),
        headersTimeout: this.#core.upstreamTimeoutMs,
        bodyTimeout: this.#core.upstreamTimeoutMs,
      });
    } catch (error) {
      this.#core.logger.warn({ err: error }, "the upstream could not be reached");
      this.#failForwarded(session, plan.forward, "the MCP server could not be reached");
      res.writeHead(202).end("Accepted");
      return;
    }
    if (upstream.statusCode >= 300) {
      // The server refused the message itself: nothing will answer it on the stream.
      this.#failForwarded(session, plan.forward, `the MCP server refused the message (HTTP ${upstream.statusCode})`);
    }
    const body = await readUpstreamBody(upstream.body, 64 * 1024);
    this.#core.observe("upstream", method, forwarded);
    if (res.headersSent || res.destroyed) return;
    res.writeHead(upstream.statusCode, clientResponseHeaders(upstream.headers, false));
    res.end(body ?? "");
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
