// The operator's end of the policy stream (ARCHITECTURE.md "Sidecar ↔ operator
// protocol"): `GET /v1/stream` (Server-Sent Events) sends the bound pod's bundle at
// connect and whenever its revision changes, an `approval` event when one is decided,
// and a comment heartbeat every 15 s; `POST /v1/ack {revision}` records what the
// sidecar applied; `POST /v1/approvals` files a held call for a person's decision;
// `POST /v1/tool-definitions {tools}` records the tool definitions its upstream lists.
// Every request carries the sidecar's projected token; a pod only ever receives its own
// bundle and the verdicts on its own approvals.
import type { SpanRecorder } from "../../tracing/span-recorder.ts";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  ACK_PATH,
  APPROVAL_EVENT,
  APPROVALS_PATH,
  BUNDLE_EVENT,
  HEARTBEAT_INTERVAL_MS,
  MAX_REPORT_BYTES,
  STREAM_PATH,
  TOOL_DEFINITIONS_PATH,
  type AckBody,
  type ApprovalEvent,
} from "../../protocol/index.ts";
import { createRouter, originFormOnly, serveRoutes, type RequestHandler } from "../http-app.ts";
import type { OperatorMetrics } from "../metrics/operator-metrics.ts";
import { errorText, type OperatorLogger } from "../operator-logger.ts";
import type { PodBundle } from "../reconcile/policy-catalog.ts";
import type { AckRecorder } from "./ack-recorder.ts";
import { definitionAnnotation, readDefinitionReport } from "./definition-reports.ts";
import { PodRateLimit } from "./pod-rate-limit.ts";
import type { BoundPod, StreamAuthenticator } from "./stream-authenticator.ts";

/** Where approvals are filed and their verdicts come from (operator/approvals/). */
export interface StreamApprovals {
  file(pod: BoundPod, body: unknown): Promise<{ status: number; body: unknown }>;
  /** Verdicts to send a stream of this pod when it connects. */
  eventsFor(pod: BoundPod): ApprovalEvent[];
}

export interface PolicyStreamServerOptions {
  authenticator: StreamAuthenticator;
  /** The pod's bundle now; undefined when the pod is unknown. */
  bundleFor: (pod: BoundPod) => PodBundle | undefined;
  acks: AckRecorder;
  /** Where tool definition reports are kept; without it `POST /v1/tool-definitions` answers 501. */
  definitions?: AckRecorder;
  /** How often a pod may report definitions (default: a burst of 10, then one per 6 s). */
  reportLimit?: PodRateLimit;
  /** Without it `POST /v1/approvals` answers 501 and calls that need approval are refused. */
  approvals?: StreamApprovals;
  metrics: OperatorMetrics;
  /** A span per push of new bundles; undefined: tracing is off. */
  tracing?: SpanRecorder;
  heartbeatMs?: number;
  logger: OperatorLogger;
}

/** A stream whose client reads slower than this many buffered bytes is dropped; it reconnects. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
const MAX_ACK_BYTES = 4096;
/** An ask: 1 KiB of preview and a few names. */
const MAX_APPROVAL_BYTES = 8192;
const REVISION = /^[0-9a-f]{1,64}$/;
/** Definition reports a pod may send at once, then one per interval (sidecars report on change, at most once a second). */
const REPORT_BURST = 10;
const REPORT_REFILL_MS = 6_000;

interface Connection {
  readonly pod: BoundPod;
  readonly response: ServerResponse;
  sentRevision: string | undefined;
}

export class PolicyStreamServer {
  readonly #options: PolicyStreamServerOptions;
  readonly #routes: RequestHandler;
  readonly #byNamespace = new Map<string, Set<Connection>>();
  readonly #byPod = new Map<string, Set<Connection>>();
  readonly #heartbeat: NodeJS.Timeout;
  /** Each bundle's frame, encoded once for all the streams it goes to. */
  readonly #frames = new WeakMap<PodBundle, Buffer>();
  readonly #reportLimit: PodRateLimit;
  #pendingNamespaces: Set<string> | "all" | undefined;
  #pendingSince = 0;
  #connections = 0;
  #closed = false;

  constructor(options: PolicyStreamServerOptions) {
    this.#options = options;
    this.#reportLimit = options.reportLimit ?? new PodRateLimit({ burst: REPORT_BURST, refillMs: REPORT_REFILL_MS });
    this.#heartbeat = setInterval(() => this.#sendHeartbeats(), options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS);
    this.#heartbeat.unref();
    this.#routes = this.#createRoutes();
  }

  get connections(): number {
    return this.#connections;
  }

  /** Routes a request; answers 404 for paths that are not the stream's. */
  handle(request: IncomingMessage, response: ServerResponse): void {
    this.#routes(request, response);
  }

  #createRoutes(): RequestHandler {
    const noSuchEndpoint = (status: number): RequestHandler => (_request, response) => reply(response, status, "no such endpoint");
    const router = createRouter();
    router.use(originFormOnly);
    // The router answers HEAD with a GET route; the stream is GET only.
    router.head(STREAM_PATH, noSuchEndpoint(405));
    router.get(STREAM_PATH, (request, response) => this.#stream(request, response));
    router.post(ACK_PATH, (request, response) => this.#ack(request, response));
    router.post(APPROVALS_PATH, (request, response) => this.#fileApproval(request, response));
    router.post(TOOL_DEFINITIONS_PATH, (request, response) => this.#reportDefinitions(request, response));
    router.all([STREAM_PATH, ACK_PATH, APPROVALS_PATH, TOOL_DEFINITIONS_PATH], noSuchEndpoint(405));
    return serveRoutes(router, {
      notFound: noSuchEndpoint(404),
      failed: (error, request) => this.#options.logger.error({ err: errorText(error), path: (request.url ?? "").split("?")[0] }, "stream request failed"),
      internalError: (_request, response) => reply(response, 500, "internal error"),
    });
  }

  /**
   * Re-sends bundles whose revision changed, on streams of pods in these namespaces (or
   * all). Calls from one callback (a watch chunk's events) are sent together, in a
   * microtask right after it: ahead of the I/O already waiting (acks, status work).
   */
  refresh(namespaces?: Iterable<string>): void {
    if (this.#closed) return;
    if (this.#pendingNamespaces === undefined) {
      this.#pendingSince = performance.now();
      queueMicrotask(() => this.#flush());
      this.#pendingNamespaces = new Set();
    }
    if (namespaces === undefined) this.#pendingNamespaces = "all";
    else if (this.#pendingNamespaces !== "all") for (const namespace of namespaces) this.#pendingNamespaces.add(namespace);
  }

  /** Re-sends the pod's bundle if its revision changed (its labels did, say). */
  refreshPod(uid: string): void {
    for (const connection of this.#byPod.get(uid) ?? []) {
      const bundle = this.#safeBundleFor(connection.pod);
      if (bundle !== undefined && bundle.revision !== connection.sentRevision) this.#sendBundle(connection, bundle);
    }
  }

  /** Ends the pod's streams (the pod is gone). */
  disconnectPod(uid: string): void {
    for (const connection of [...(this.#byPod.get(uid) ?? [])]) connection.response.end();
  }

  /** Sends an `approval` event to the pod's streams; false when none is open here. */
  sendApproval(podUid: string, approval: ApprovalEvent): boolean {
    const connections = this.#byPod.get(podUid);
    if (connections === undefined || connections.size === 0) return false;
    const frame = approvalFrame(approval);
    for (const connection of connections) this.#write(connection, frame);
    return true;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    for (const connections of this.#byPod.values()) for (const connection of [...connections]) connection.response.end();
  }

  async #stream(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const pod = await this.#authenticate(request, response);
    if (pod === undefined) return;
    const bundle = this.#options.bundleFor(pod);
    if (bundle === undefined) return reply(response, 503, "the operator does not know the pod yet; retry");
    response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" });
    response.socket?.setNoDelay(true);
    response.socket?.setKeepAlive(true, 30_000);
    const connection: Connection = { pod, response, sentRevision: undefined };
    this.#add(connection);
    response.on("close", () => this.#remove(connection));
    this.#sendBundle(connection, bundle);
    for (const event of this.#options.approvals?.eventsFor(pod) ?? []) this.#write(connection, approvalFrame(event));
    this.#options.logger.debug({ pod: `${pod.namespace}/${pod.name}`, revision: bundle.revision }, "sidecar connected");
  }

  async #ack(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const read = await this.#authenticatedJson(request, response, MAX_ACK_BYTES, 'JSON {"revision": "..."}');
    if (read === undefined) return;
    const { pod, body } = read;
    const revision = typeof body === "object" && body !== null ? (body as Partial<Record<keyof AckBody, unknown>>).revision : undefined;
    if (typeof revision !== "string" || !REVISION.test(revision)) return reply(response, 400, "revision must be the revision of a received bundle");
    try {
      await this.#options.acks.record(pod, revision);
    } catch (error) {
      this.#options.logger.warn({ err: errorText(error), pod: `${pod.namespace}/${pod.name}` }, "could not record an ack");
      return reply(response, 503, "could not record the ack; retry");
    }
    response.writeHead(204).end();
  }

  async #fileApproval(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const approvals = this.#options.approvals;
    if (approvals === undefined) return reply(response, 501, "this operator does not serve approvals");
    const read = await this.#authenticatedJson(request, response, MAX_APPROVAL_BYTES, "a JSON approval request");
    if (read === undefined) return;
    const { pod, body } = read;
    let filed: { status: number; body: unknown };
    try {
      filed = await approvals.file(pod, body);
    } catch (error) {
      this.#options.logger.warn({ err: errorText(error), pod: `${pod.namespace}/${pod.name}` }, "could not file an approval");
      return reply(response, 503, `could not create the McpApproval: ${errorText(error)}`);
    }
    if (!response.headersSent) response.writeHead(filed.status, { "content-type": "application/json" }).end(JSON.stringify(filed.body));
  }

  async #reportDefinitions(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const recorder = this.#options.definitions;
    if (recorder === undefined) return reply(response, 501, "this operator does not keep tool definition reports");
    const read = await this.#authenticatedJson(request, response, MAX_REPORT_BYTES, 'JSON {"tools": {"tool name": "sha256:<hex>"}}');
    if (read === undefined) return;
    const { pod, body } = read;
    const wait = this.#reportLimit.take(pod.uid);
    if (wait > 0) return reply(response, 429, `too many tool definition reports from this pod; retry in ${wait} s`, { "retry-after": String(wait) });
    const report = readDefinitionReport(body);
    if (!report.ok) return reply(response, 400, report.message);
    try {
      await recorder.record(pod, definitionAnnotation(report.tools));
    } catch (error) {
      this.#options.logger.warn({ err: errorText(error), pod: `${pod.namespace}/${pod.name}` }, "could not record a tool definition report");
      return reply(response, 503, "could not record the report; retry");
    }
    response.writeHead(204).end();
  }

  /** The bound pod and the JSON body of a POST; undefined once refused (401/403/503, or 400 naming `expected`). */
  async #authenticatedJson(request: IncomingMessage, response: ServerResponse, limit: number, expected: string): Promise<{ pod: BoundPod; body: unknown } | undefined> {
    const pod = await this.#authenticate(request, response);
    if (pod === undefined) return undefined;
    try {
      return { pod, body: JSON.parse(await readBody(request, limit)) };
    } catch (error) {
      reply(response, 400, `the body must be ${expected}: ${errorText(error)}`);
      return undefined;
    }
  }

  async #authenticate(request: IncomingMessage, response: ServerResponse): Promise<BoundPod | undefined> {
    const header = request.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) {
      reply(response, 401, "send the pod's projected ServiceAccount token as Authorization: Bearer <token>", { "www-authenticate": 'Bearer realm="mcp-warden"' });
      return undefined;
    }
    const result = await this.#options.authenticator.authenticate(match[1] as string, request.socket.remoteAddress);
    if (!result.ok) {
      this.#options.logger.info({ status: result.status, why: result.message, peer: request.socket.remoteAddress }, "stream request refused");
      reply(response, result.status, result.message, result.status === 401 ? { "www-authenticate": 'Bearer realm="mcp-warden", error="invalid_token"' } : {});
      return undefined;
    }
    return result.pod;
  }

  #flush(): void {
    const pending = this.#pendingNamespaces;
    const since = this.#pendingSince;
    this.#pendingNamespaces = undefined;
    if (pending === undefined || this.#closed) return;
    const groups = pending === "all" ? [...this.#byNamespace.values()] : [...pending].map((namespace) => this.#byNamespace.get(namespace) ?? new Set<Connection>());
    let sent = 0;
    for (const connections of groups) {
      for (const connection of connections) {
        const bundle = this.#safeBundleFor(connection.pod);
        if (bundle !== undefined && bundle.revision !== connection.sentRevision) {
          this.#sendBundle(connection, bundle);
          sent++;
        }
      }
    }
    if (sent === 0) return;
    this.#options.metrics.pushDuration.observe((performance.now() - since) / 1000);
    // From the first change that asked for the push to the last bundle written.
    this.#options.tracing?.record("push policy bundles", { "mcpwarden.sidecars": sent, "mcpwarden.namespaces": groups.length }, since);
  }

  #safeBundleFor(pod: BoundPod): PodBundle | undefined {
    try {
      return this.#options.bundleFor(pod);
    } catch (error) {
      this.#options.logger.error({ err: errorText(error), pod: `${pod.namespace}/${pod.name}` }, "could not compute a bundle");
      return undefined;
    }
  }

  #sendBundle(connection: Connection, bundle: PodBundle): void {
    connection.sentRevision = bundle.revision;
    let frame = this.#frames.get(bundle);
    if (frame === undefined) {
      frame = Buffer.from(`event: ${BUNDLE_EVENT}\ndata: ${bundle.json}\n\n`, "utf8");
      this.#frames.set(bundle, frame);
    }
    this.#write(connection, frame);
  }

  #sendHeartbeats(): void {
    for (const connections of this.#byPod.values()) for (const connection of connections) this.#write(connection, ": heartbeat\n\n");
  }

  #write(connection: Connection, frame: string | Buffer): void {
    const { response } = connection;
    if (response.writableEnded || response.destroyed) return;
    if (response.writableLength > MAX_BUFFERED_BYTES) {
      this.#options.logger.warn({ pod: `${connection.pod.namespace}/${connection.pod.name}` }, "sidecar reads too slowly; dropping its stream");
      response.destroy();
      return;
    }
    response.write(frame);
  }

  #add(connection: Connection): void {
    const { namespace, uid } = connection.pod;
    if (!this.#byNamespace.has(namespace)) this.#byNamespace.set(namespace, new Set());
    this.#byNamespace.get(namespace)?.add(connection);
    if (!this.#byPod.has(uid)) this.#byPod.set(uid, new Set());
    this.#byPod.get(uid)?.add(connection);
    this.#connections++;
    this.#options.metrics.connectedSidecars.set(this.#connections);
  }

  #remove(connection: Connection): void {
    const { namespace, uid } = connection.pod;
    const inNamespace = this.#byNamespace.get(namespace);
    if (inNamespace?.delete(connection) !== true) return;
    if (inNamespace.size === 0) this.#byNamespace.delete(namespace);
    const ofPod = this.#byPod.get(uid);
    ofPod?.delete(connection);
    if (ofPod?.size === 0) this.#byPod.delete(uid);
    this.#connections--;
    this.#options.metrics.connectedSidecars.set(this.#connections);
  }
}

function approvalFrame(event: ApprovalEvent): string {
  return `event: ${APPROVAL_EVENT}\ndata: ${JSON.stringify(event)}\n\n`;
}

function reply(response: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (response.headersSent) return;
  response.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify({ error: message }));
}

function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`more than ${limit} bytes`));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}
