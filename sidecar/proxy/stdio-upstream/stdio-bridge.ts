// HTTP clients in front of stdio servers: one server process per MCP session (a stdio
// server serves one client) — spawned here (stdio-process.ts) or, in a pod, run by
// mcp-warden-launcher in the server's container (launcher-process.ts; ADR 12) — started
// by the session's initialize (Streamable HTTP) or its GET /sse (legacy), ended by DELETE,
// the client leaving the legacy stream, the idle timeout or close(). The sidecar mints the
// session id.
//
// Stdio carries no stream affinity, so the sidecar routes what the server writes:
// responses to the stream of the request they answer, progress to the stream of the
// request that asked for it (its progressToken), everything else (server requests such
// as sampling, logging, list_changed) to the session's standing stream: the GET stream,
// the legacy event stream, else any open request stream, else a bounded backlog that the
// next GET stream receives first.
//
// Stateless requests (MCP 2026-07-28: no initialize, no session; stdio-stateless.ts) go to
// one shared process, started on first use and again after it ends. Their ids and
// progress tokens are the sidecar's on the way in and the client's again on the way out;
// what the process writes that no waiting request owns is dropped, and its requests to
// the client (sampling, elicitation: not in stateless core) are refused.

import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { CONNECTION_CLOSED, errorResponse, INTERNAL_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, REQUEST_TIMEOUT } from "../../jsonrpc/error-codes.ts";
import { idKey, isJsonObject, progressTokenOf, type JsonObject, type JsonRpcId, type JsonRpcMessage } from "../../jsonrpc/message.ts";
import { resolveIdentity, type Intake } from "../intake/intake-post.ts";
import { receivePost, type ReceivedPost } from "../intake/receive-post.ts";
import { LEGACY_MESSAGES_PATH } from "../intake/request-target.ts";
import type { LauncherUpstream, StdioUpstream } from "../options.ts";
import type { ProxyCore } from "../proxy-core.ts";
import { sendReply } from "../replies/early-sse-reply.ts";
import { SSE_HEADERS, sendJsonRpcError } from "../replies/http-replies.ts";
import type { ScannedMessage } from "../replies/json-message-scanner.ts";
import { mergeReplies } from "../replies/merge-replies.ts";
import { processServerMessage, sessionMessageContext } from "../replies/server-message.ts";
import { StdioProcess, type ServerProcess } from "./stdio-process.ts";
import { LauncherProcess } from "./launcher-process.ts";
import { notificationOwner, restoreNotification, restoreResponseId, statelessVerdict, toSharedProcess, UnownedMessages } from "./stdio-stateless.ts";
import { jsonReplySink, sseReplySink, standingStreamSink, timedLegacySink, type Sink, type SinkHost } from "./stdio-sinks.ts";
import { ResponseWatch } from "../replies/response-watch.ts";

const MAX_BACKLOG = 1_000;
const SESSION_NOT_FOUND = -32001;

interface PendingRequest {
  /** The client's id, and the one the process saw (the sidecar's, on the shared process). */
  readonly id: JsonRpcId;
  readonly upstreamId: JsonRpcId;
  /** The client's progress token (the process may have been given the sidecar's). */
  readonly clientToken: JsonRpcId | undefined;
  readonly method: string;
  /** performance.now() when written to the process. */
  readonly sentAt: number;
  readonly sink: Sink;
  readonly progressToken: string | undefined;
}

class StdioSession {
  readonly id = randomUUID();
  readonly process: ServerProcess;
  readonly watch = new ResponseWatch();
  readonly pending = new Map<string, PendingRequest>();
  readonly progress = new Map<string, string>();
  readonly openSinks = new Set<Sink>();
  readonly backlog: string[] = [];
  backlogBytes = 0;
  readonly legacy: boolean;
  /** The shared process of stateless requests, not a session: no client may name it. */
  readonly stateless: boolean;
  protocolVersion: string | undefined;
  standing: Sink | undefined;
  lastActivity: number;
  ended = false;
  /** Aborts when the session ends: its calls held for approval are not made. */
  readonly gone = new AbortController();

  constructor(bridge: StdioBridge, upstream: StdioUpstream | LauncherUpstream, core: ProxyCore, kind: "streamable" | "legacy" | "stateless") {
    this.legacy = kind === "legacy";
    this.stateless = kind === "stateless";
    this.lastActivity = core.now();
    const events = { onLine: (line: string) => bridge.onLine(this, line), onOversizedLine: (messages: readonly ScannedMessage[]) => bridge.onOversizedLine(this, messages), onExit: (why: string) => bridge.onExit(this, why) };
    const options = { logger: core.logger, sessionId: this.id, maxLineBytes: core.limits.maxStdioLineBytes };
    this.process = "socket" in upstream ? new LauncherProcess(upstream, events, options) : new StdioProcess(upstream, events, options);
  }
}

export class StdioBridge {
  readonly #core: ProxyCore;
  readonly #upstream: StdioUpstream | LauncherUpstream;
  readonly #sessions = new Map<string, StdioSession>();
  readonly #idleTimer: NodeJS.Timeout;
  /** The process stateless requests share; undefined until first use and after it ends. */
  #shared: StdioSession | undefined;
  #minted = 0;
  readonly #unowned = new UnownedMessages();

  constructor(core: ProxyCore, upstream: StdioUpstream | LauncherUpstream) {
    this.#core = core;
    this.#upstream = upstream;
    this.#idleTimer = setInterval(() => this.#reapIdle(), Math.min(60_000, Math.max(1_000, core.sessionIdleTimeoutMs / 4)));
    this.#idleTimer.unref();
    // Every session is a server process: they count against --max-sessions (the shared one does not).
    core.countSessions(() => this.#sessions.size);
  }

  sessions(): { id: string; pid: number | undefined }[] {
    return [...this.#sessions.values()].map((session) => ({ id: session.id, pid: session.process.pid }));
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#idleTimer);
    const running = [...this.#sessions.values(), ...(this.#shared === undefined ? [] : [this.#shared])];
    await Promise.all(running.map((session) => this.#end(session, "the sidecar is shutting down")));
  }

  // ---- Streamable HTTP ----

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    switch (req.method) {
      case "POST":
        return this.#post(req, res);
      case "GET":
        return this.#get(req, res);
      case "DELETE":
        return this.#delete(req, res);
      default:
        req.resume();
        sendJsonRpcError(res, 405, CONNECTION_CLOSED, "Method not allowed.", null, { allow: "GET, POST, DELETE" });
    }
  }

  async #post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionId = headerOnce(req.headers["mcp-session-id"]);
    let session = sessionId === undefined ? undefined : this.#live(sessionId);
    if (sessionId !== undefined && session === undefined) {
      req.resume();
      sendJsonRpcError(res, 404, SESSION_NOT_FOUND, "Session not found");
      return;
    }
    // A call held for approval is not made once its client left or its session ended.
    const post = await receivePost(this.#core, req, res, {
      sessionId: sessionId ?? "",
      protocolVersion: session?.protocolVersion,
      progress: "reply",
      replyHeaders: session === undefined ? {} : { "mcp-session-id": session.id },
      ...(session === undefined ? {} : { sessionGone: session.gone.signal }),
    });
    if (post === undefined) return;
    const { intake, early } = post;
    // The client left (when only its session ended, what is forwarded is answered "not running").
    if (res.destroyed) {
      if (intake.plan.forward.length > 0) this.#core.logger.info({ sessionId }, "the client left while its POST was decided; nothing of it was forwarded");
      return;
    }
    const initializing = intake.plan.initializeIds.length > 0;
    if (session === undefined && !initializing) {
      const verdict = statelessVerdict(req.headers, intake.messages);
      if (verdict.kind === "stateless") return this.#postStateless(req, res, post);
      const problem = verdict.kind === "invalid" ? `Invalid Request: ${verdict.problem}` : "Bad Request: Mcp-Session-Id header is required";
      sendReply(res, early, 400, errorResponse(null, INVALID_REQUEST, problem), {});
      return;
    }
    if (session === undefined) {
      if (intake.messages.length !== 1) {
        sendJsonRpcError(res, 400, INVALID_REQUEST, "Bad Request: Mcp-Session-Id header is required");
        return;
      }
      if (!this.#core.sessionRoom()) {
        post.observed();
        this.#core.refuseSession(res, early, intake.plan.initializeIds[0] ?? null);
        return;
      }
      session = this.#start("streamable");
    } else if (initializing) {
      sendJsonRpcError(res, 400, INVALID_REQUEST, "Invalid Request: Server already initialized");
      return;
    }
    session.lastActivity = this.#core.now();
    const headers = { "mcp-session-id": session.id };
    const { plan } = intake;
    post.observed();
    if (plan.forward.length === 0) {
      sendReply(res, early, 200, mergeReplies(intake, []), headers);
      return;
    }
    const requests = plan.forward.filter((message) => message.kind === "request");
    if (requests.length === 0) {
      this.#forward(session, plan.forward, undefined);
      if (plan.answers.length > 0 || early !== undefined) sendReply(res, early, 200, mergeReplies(intake, []), headers);
      else res.writeHead(202, headers).end();
      return;
    }
    const sink = this.#replySink(session, req, res, headers, requests.length, intake);
    post.watchAnswers(session.watch);
    this.#forward(session, plan.forward, sink);
  }

  /** A stateless POST, decided like every other: what is forwarded goes to the shared process. */
  #postStateless(req: IncomingMessage, res: ServerResponse, post: ReceivedPost): void {
    const { intake, early } = post;
    const { plan } = intake;
    post.observed();
    const requests = plan.forward.filter((message) => message.kind === "request");
    const notifications = plan.forward.filter((message) => message.kind === "notification");
    if (requests.length === 0) {
      if (notifications.length > 0) this.#forward(this.#sharedProcess(), notifications, undefined);
      if (plan.answers.length > 0 || early !== undefined) sendReply(res, early, 200, mergeReplies(intake, []), {});
      else res.writeHead(202).end();
      return;
    }
    const shared = this.#sharedProcess();
    shared.lastActivity = this.#core.now();
    const sink = this.#replySink(shared, req, res, {}, requests.length, intake);
    // A client that leaves takes its requests with it: the process is asked to stop them.
    res.once("close", () => {
      if (res.writableFinished) return;
      for (const key of this.#sinkHost(shared).pendingKeysOf(sink)) {
        this.#cancel(shared, key, "the client left");
        // A cancelled request may never be answered: it no longer waits (nor keeps the process from idling).
        this.#answerPending(shared, key, errorResponse(null, CONNECTION_CLOSED, "the client left"));
      }
    });
    this.#forward(shared, plan.forward, sink);
  }

  #replySink(session: StdioSession, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>, requests: number, intake: Intake): Sink {
    return (req.headers.accept ?? "").includes("text/event-stream")
      ? sseReplySink(this.#sinkHost(session), res, headers, requests, intake)
      : jsonReplySink(this.#sinkHost(session), res, headers, requests, intake);
  }

  async #get(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionId = headerOnce(req.headers["mcp-session-id"]);
    if ((await resolveIdentity(this.#core, req, res, sessionId ?? "")) === undefined) return;
    if (!(req.headers.accept ?? "").includes("text/event-stream")) {
      sendJsonRpcError(res, 406, CONNECTION_CLOSED, "Not Acceptable: Client must accept text/event-stream");
      return;
    }
    const session = sessionId === undefined ? undefined : this.#live(sessionId);
    if (session === undefined) {
      sendJsonRpcError(res, sessionId === undefined ? 400 : 404, sessionId === undefined ? INVALID_REQUEST : SESSION_NOT_FOUND, sessionId === undefined ? "Bad Request: Mcp-Session-Id header is required" : "Session not found");
      return;
    }
    if (session.standing?.open === true) {
      sendJsonRpcError(res, 409, CONNECTION_CLOSED, "Conflict: Only one SSE stream is allowed per session");
      return;
    }
    res.writeHead(200, { ...SSE_HEADERS, "mcp-session-id": session.id });
    res.flushHeaders();
    session.standing = standingStreamSink(res, this.#core.limits.maxPendingServerMessageBytes);
    for (const text of session.backlog.splice(0)) session.standing.deliver(text, undefined);
    session.backlogBytes = 0;
  }

  async #delete(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionId = headerOnce(req.headers["mcp-session-id"]);
    if ((await resolveIdentity(this.#core, req, res, sessionId ?? "")) === undefined) return;
    const session = sessionId === undefined ? undefined : this.#live(sessionId);
    if (session === undefined) {
      sendJsonRpcError(res, sessionId === undefined ? 400 : 404, sessionId === undefined ? INVALID_REQUEST : SESSION_NOT_FOUND, sessionId === undefined ? "Bad Request: Mcp-Session-Id header is required" : "Session not found");
      return;
    }
    await this.#end(session, "the session was ended by the client");
    res.writeHead(200).end();
  }

  // ---- legacy HTTP+SSE ----

  async openLegacyStream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if ((await resolveIdentity(this.#core, req, res, "")) === undefined) return;
    // The stream is the session, and its server process: it opens only when there is room.
    if (!this.#core.sessionRoom()) {
      this.#core.refuseSession(res, undefined, null);
      return;
    }
    const session = this.#start("legacy");
    res.writeHead(200, SSE_HEADERS);
    res.write(`event: endpoint\ndata: ${LEGACY_MESSAGES_PATH}?sessionId=${session.id}\n\n`);
    session.standing = standingStreamSink(res, this.#core.limits.maxPendingServerMessageBytes);
    // The stream is the session: when the client leaves, the server process goes.
    res.once("close", () => void this.#end(session, "the client closed the event stream"));
  }

  async legacyPost(req: IncomingMessage, res: ServerResponse, search: string): Promise<void> {
    const id = new URLSearchParams(search).get("sessionId") ?? "";
    const session = this.#live(id);
    if (session === undefined || !session.legacy) {
      req.resume();
      sendJsonRpcError(res, 404, SESSION_NOT_FOUND, "Session not found");
      return;
    }
    // Progress while a call is held goes where the answer will: the session's stream.
    const notifier = {
      notify: (message: object): boolean => {
        if (session.standing?.open !== true) return false;
        session.standing.deliver(JSON.stringify(message), undefined);
        return true;
      },
    };
    const post = await receivePost(this.#core, req, res, { sessionId: session.id, protocolVersion: session.protocolVersion, progress: notifier, sessionGone: session.gone.signal });
    if (post === undefined) return;
    post.observed();
    const { intake } = post;
    session.lastActivity = this.#core.now();
    const standing = session.standing;
    for (const answer of intake.plan.answers) standing?.deliver(JSON.stringify(answer.response), undefined);
    post.watchAnswers(session.watch);
    if (intake.plan.forward.length > 0 && standing !== undefined && !session.ended) this.#forward(session, intake.plan.forward, timedLegacySink(this.#sinkHost(session), standing));
    res.writeHead(202).end("Accepted");
  }

  // ---- sessions and routing ----

  #start(kind: "streamable" | "legacy"): StdioSession {
    const session = new StdioSession(this, this.#upstream, this.#core, kind);
    this.#sessions.set(session.id, session);
    this.#core.logger.info({ sessionId: session.id, pid: session.process.pid }, "started an MCP server process for a session");
    return session;
  }

  #sharedProcess(): StdioSession {
    if (this.#shared !== undefined && !this.#shared.ended) return this.#shared;
    const shared = new StdioSession(this, this.#upstream, this.#core, "stateless");
    this.#shared = shared;
    this.#core.logger.info({ pid: shared.process.pid }, "started the MCP server process shared by stateless requests");
    return shared;
  }

  #live(id: string): StdioSession | undefined {
    const session = this.#sessions.get(id);
    return session === undefined || session.ended ? undefined : session;
  }

  /** Writes the messages to the process (a batch as single lines: stdio servers rarely read arrays). */
  #forward(session: StdioSession, messages: readonly JsonRpcMessage[], sink: Sink | undefined): void {
    for (const message of messages) {
      const outbound = session.stateless ? toSharedProcess(message, () => `mcpw-${++this.#minted}`) : { value: message.value };
      if (outbound === undefined) continue;
      const upstreamId = message.kind === "request" ? (outbound.upstreamId ?? message.id) : undefined;
      if (message.kind === "request" && upstreamId !== undefined && sink !== undefined) {
        const clientToken = progressTokenOf(message.params);
        const token = outbound.upstreamToken ?? clientToken;
        const progressToken = token === undefined ? undefined : idKey(token);
        const key = idKey(upstreamId);
        session.pending.set(key, { id: message.id, upstreamId, clientToken, method: message.method, sentAt: performance.now(), sink, progressToken });
        if (progressToken !== undefined) session.progress.set(progressToken, key);
        // Every forwarded tools/list is filtered (plan-messages.ts); here under the process's id.
        if (session.stateless && message.method === "tools/list") session.watch.add(upstreamId, "tools/list");
      }
      if (!session.process.send(JSON.stringify(outbound.value)) && message.kind === "request" && upstreamId !== undefined) {
        this.#answerPending(session, idKey(upstreamId), errorResponse(message.id, CONNECTION_CLOSED, "the MCP server process is not running"));
      }
    }
  }

  onLine(session: StdioSession, line: string): void {
    session.lastActivity = this.#core.now();
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.#core.logger.warn({ sessionId: session.id, line: line.slice(0, 200) }, "the MCP server wrote a line that is not JSON; dropped");
      return;
    }
    if (Array.isArray(value)) {
      for (const element of value) this.#route(session, JSON.stringify(element), element);
      return;
    }
    this.#route(session, line, value);
  }

  #route(session: StdioSession, text: string, value: unknown): void {
    if (!isJsonObject(value)) {
      if (session.stateless) this.#unowned.drop(this.#core.logger, "it is not a JSON-RPC message", text);
      return;
    }
    if (!Object.hasOwn(value, "method")) {
      this.#routeResponse(session, text, value);
      return;
    }
    if (session.stateless) {
      this.#routeShared(session, text, value);
      return;
    }
    if (value["method"] === "notifications/progress" && isJsonObject(value["params"])) {
      const token = value["params"]["progressToken"];
      const requestKey = typeof token === "string" || typeof token === "number" ? session.progress.get(idKey(token)) : undefined;
      const pending = requestKey === undefined ? undefined : session.pending.get(requestKey);
      if (pending?.sink.open === true) {
        pending.sink.deliver(text, undefined);
        return;
      }
    }
    this.#deliverStanding(session, text);
  }

  #routeResponse(session: StdioSession, text: string, value: JsonObject): void {
    const id = value["id"];
    const key = typeof id === "string" || typeof id === "number" ? idKey(id) : undefined;
    const pending = key === undefined ? undefined : session.pending.get(key);
    if (session.stateless && pending === undefined) {
      this.#unowned.drop(this.#core.logger, "a response no waiting request owns", text);
      return;
    }
    const outcome = processServerMessage(text, sessionMessageContext(this.#core, session));
    if (pending !== undefined && key !== undefined) {
      this.#core.observe("upstream", pending.method, pending.sentAt);
      session.pending.delete(key);
      if (pending.progressToken !== undefined) session.progress.delete(pending.progressToken);
      if (pending.sink.open) {
        pending.sink.deliver(session.stateless ? restoreResponseId(outcome.text, pending.id) : outcome.text, pending.id);
        return;
      }
    }
    if (!session.stateless) this.#deliverStanding(session, outcome.text);
  }

  /** A request or notification of the shared process: to the client whose request it concerns. */
  #routeShared(session: StdioSession, text: string, value: JsonObject): void {
    const id = value["id"];
    if (typeof id === "string" || typeof id === "number") {
      this.#core.logger.info({ pid: session.process.pid, method: value["method"] }, "refused a request of the shared stateless MCP server process: stateless clients take none");
      const reason = "stateless MCP clients take no server requests (sampling, elicitation, roots): the sidecar cannot ask one";
      session.process.send(JSON.stringify(errorResponse(id, METHOD_NOT_FOUND, reason)));
      return;
    }
    const owner = notificationOwner(value);
    const key = owner.token !== undefined ? session.progress.get(idKey(owner.token)) : owner.requestId === undefined ? undefined : idKey(owner.requestId);
    const pending = key === undefined ? undefined : session.pending.get(key);
    if (pending?.sink.open !== true) {
      this.#unowned.drop(this.#core.logger, "a notification no waiting request owns", text);
      return;
    }
    pending.sink.deliver(restoreNotification(value, pending.clientToken, pending.id), undefined);
  }

  #deliverStanding(session: StdioSession, text: string): void {
    if (session.standing?.open === true) {
      session.standing.deliver(text, undefined);
      return;
    }
    let fallback: Sink | undefined;
    for (const sink of session.openSinks) if (sink.open) fallback = sink;
    if (fallback !== undefined) {
      fallback.deliver(text, undefined);
      return;
    }
    // Held for the next GET stream, within --max-pending-server-message-bytes: the oldest go first.
    const cap = this.#core.limits.maxPendingServerMessageBytes;
    if (text.length > cap) {
      this.#core.logger.warn({ sessionId: session.id, bytes: text.length }, "dropped a server message larger than --max-pending-server-message-bytes that no client stream could take");
      return;
    }
    while (session.backlog.length > 0 && (session.backlog.length >= MAX_BACKLOG || session.backlogBytes + text.length > cap)) {
      session.backlogBytes -= (session.backlog.shift() as string).length;
      this.#core.logger.warn({ sessionId: session.id }, "dropped the oldest server message held for a client that has no stream open (--max-pending-server-message-bytes)");
    }
    session.backlog.push(text);
    session.backlogBytes += text.length;
  }

  /**
   * A line over --max-stdio-line-bytes: never held, its ids read as it passed. The requests
   * it answered get an error naming the cap; the process keeps serving.
   */
  onOversizedLine(session: StdioSession, messages: readonly ScannedMessage[]): void {
    const why = `the MCP server's reply exceeds --max-stdio-line-bytes (${this.#core.limits.maxStdioLineBytes} bytes), so the sidecar did not relay it`;
    let answered = 0;
    for (const message of messages) {
      if (message.hasMethod || message.id === undefined) continue;
      const key = idKey(message.id);
      const pending = session.pending.get(key);
      if (pending === undefined) continue;
      answered++;
      this.#answerPending(session, key, errorResponse(pending.id, INTERNAL_ERROR, why));
    }
    this.#core.logger.warn({ sessionId: session.id, pid: session.process.pid, answered }, "the MCP server wrote a line over --max-stdio-line-bytes; it was dropped");
  }


  #answerPending(session: StdioSession, key: string, response: object): void {
    const pending = session.pending.get(key);
    if (pending === undefined) return;
    session.pending.delete(key);
    if (pending.progressToken !== undefined) session.progress.delete(pending.progressToken);
    if (pending.sink.open) pending.sink.deliver(JSON.stringify(response), pending.id);
  }

  onExit(session: StdioSession, why: string): void {
    if (!session.ended) this.#core.logger.warn({ sessionId: session.id, why }, "the MCP server process of a session ended");
    for (const key of [...session.pending.keys()]) {
      const pending = session.pending.get(key);
      if (pending !== undefined) this.#answerPending(session, key, errorResponse(pending.id, CONNECTION_CLOSED, why));
    }
    session.ended = true;
    session.gone.abort();
    this.#sessions.delete(session.id);
    if (this.#shared === session) this.#shared = undefined;
    for (const sink of session.openSinks) sink.deliver("", undefined);
    session.standing?.deliver("", undefined);
  }

  async #end(session: StdioSession, why: string): Promise<void> {
    if (session.ended) return session.process.reap();
    this.#sessions.delete(session.id);
    if (this.#shared === session) this.#shared = undefined;
    for (const key of [...session.pending.keys()]) {
      const pending = session.pending.get(key);
      if (pending !== undefined) this.#answerPending(session, key, errorResponse(pending.id, CONNECTION_CLOSED, why));
    }
    session.ended = true;
    session.gone.abort();
    session.standing?.deliver("", undefined);
    await session.process.reap();
  }

  #sinkHost(session: StdioSession): SinkHost {
    return {
      timeoutMs: this.#core.upstreamTimeoutMs,
      maxBufferedBytes: this.#core.limits.maxPendingServerMessageBytes,
      openSinks: session.openSinks,
      pendingKeysOf: (sink) => [...session.pending].filter(([, pending]) => pending.sink === sink).map(([key]) => key),
      timeOut: (key) => this.#timeOut(session, key),
    };
  }

  #timeOut(session: StdioSession, key: string): void {
    const pending = session.pending.get(key);
    if (pending === undefined) return;
    // The client is told; the server is asked to stop working on it.
    this.#cancel(session, key, "the sidecar's upstream timeout expired");
    this.#answerPending(session, key, errorResponse(pending.id, REQUEST_TIMEOUT, `the MCP server did not answer within ${Math.round(this.#core.upstreamTimeoutMs / 1000)} s`));
  }

  /** Asks the server to stop working on a request (its answer, if any, then goes nowhere). */
  #cancel(session: StdioSession, key: string, reason: string): void {
    const pending = session.pending.get(key);
    if (pending === undefined) return;
    session.process.send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: pending.upstreamId, reason } }));
  }

  #reapIdle(): void {
    const now = this.#core.now();
    for (const session of [...this.#sessions.values(), ...(this.#shared === undefined ? [] : [this.#shared])]) {
      const streaming = session.standing?.open === true && session.legacy;
      if (!streaming && session.pending.size === 0 && now - session.lastActivity > this.#core.sessionIdleTimeoutMs) {
        void this.#end(session, "the session was idle too long");
      }
    }
  }
}

function headerOnce(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
