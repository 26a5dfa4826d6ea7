// The upstream HTTP client: Node's own node:http, with one keep-alive Agent (node:https and
// a second Agent only for an https upstream, loaded on its first request). Not undici:
// the server side already loads node:http, and undici's client brings its own code plus
// node:http2 and node:tls — ~6 MB of RSS in every sidecar (docs/architecture.md "What the
// sidecar loads", ADR 14).
//
// Timeouts are socket silence, as undici's were: `headersTimeout` while the reply's head
// is awaited, then `bodyTimeout` between body bytes (0: none, for event streams).

import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from "node:http";

interface UpstreamRequest {
  /** `http://host:port` or `https://…`: the upstream's origin, never a client's. */
  readonly origin: string;
  readonly path: string;
  readonly method: string;
  readonly headers: Record<string, string | string[]>;
  /** Sent whole, with its Content-Length. */
  readonly body?: Buffer | string;
  readonly signal?: AbortSignal;
  /** Longest wait for the reply's head, ms; 0: none. */
  readonly headersTimeout: number;
  /** Longest silence mid-body, ms; 0: none. */
  readonly bodyTimeout: number;
}

/** The reply's body: read it, iterate it or `discard` it; its errors are never unhandled. */
export type UpstreamBody = IncomingMessage;

export interface UpstreamResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: UpstreamBody;
}

export interface UpstreamAgent {
  request(options: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

/** The upstream went silent longer than a timeout allows. */
export class UpstreamTimeoutError extends Error {
  readonly code = "MCPWARDEN_UPSTREAM_TIMEOUT";
}

type RequestFunction = typeof httpRequest;

interface Origin {
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
}

/** A free connection closes after this long unused. */
const IDLE_CONNECTION_MS = 30_000;
/** Longest wait for a new connection (undici's default); shorter when the upstream timeout is. */
const CONNECT_TIMEOUT_MS = 10_000;
const MAX_CONNECTIONS = 256;

function agentOptions(): ConstructorParameters<typeof Agent>[0] {
  return { keepAlive: true, timeout: IDLE_CONNECTION_MS, maxSockets: MAX_CONNECTIONS, scheduling: "lifo" };
}

export function createUpstreamAgent(): UpstreamAgent {
  const plain = new Agent(agentOptions());
  let secure: Promise<{ agent: Agent; request: RequestFunction }> | undefined;
  // One origin per sidecar in practice; parsed once.
  const origins = new Map<string, Origin>();
  const parse = (origin: string): Origin => {
    let parsed = origins.get(origin);
    if (parsed === undefined) {
      const url = new URL(origin);
      const isSecure = url.protocol === "https:";
      // URL keeps an IPv6 host in brackets; node:http takes it bare.
      parsed = { secure: isSecure, host: url.hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(url.port || (isSecure ? 443 : 80)) };
      origins.set(origin, parsed);
    }
    return parsed;
  };
  const loadSecure = (): Promise<{ agent: Agent; request: RequestFunction }> =>
    (secure ??= import("node:https").then((https) => ({ agent: new https.Agent(agentOptions()), request: https.request })));

  return {
    async request(options) {
      const origin = parse(options.origin);
      if (origin.secure) {
        const { agent, request } = await loadSecure();
        return send(request, agent, origin, options);
      }
      return send(httpRequest, plain, origin, options);
    },
    async close() {
      plain.destroy();
      if (secure !== undefined) (await secure).agent.destroy();
    },
  };
}

function send(request: RequestFunction, agent: Agent, origin: Origin, options: UpstreamRequest): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const requestOptions: RequestOptions = { host: origin.host, port: origin.port, path: options.path, method: options.method, headers: options.headers, agent };
    if (options.signal !== undefined) requestOptions.signal = options.signal;
    let response: IncomingMessage | undefined;
    const req = request(requestOptions, (res) => {
      response = res;
      // Heard here so that a body nobody reads never fails the process; readers still see it.
      res.on("error", noop);
      req.setTimeout(options.bodyTimeout);
      resolve({ statusCode: res.statusCode ?? 502, headers: res.headers, body: res });
    });
    // The timeouts below start once connected; a new connection has its own limit, and
    // failing it is "could not be reached", not "did not answer".
    req.once("socket", (socket) => {
      if (!socket.connecting) return;
      const limit = options.headersTimeout > 0 ? Math.min(options.headersTimeout, CONNECT_TIMEOUT_MS) : CONNECT_TIMEOUT_MS;
      const timer = setTimeout(() => req.destroy(new Error(`could not connect to the upstream within ${limit} ms`)), limit);
      socket.once("connect", () => clearTimeout(timer));
      socket.once("close", () => clearTimeout(timer));
    });
    // Always set, also to 0: a reused connection keeps the Agent's idle timeout otherwise.
    req.setTimeout(options.headersTimeout);
    req.on("timeout", () => {
      if (response === undefined) {
        req.destroy(new UpstreamTimeoutError(`the upstream did not answer within ${options.headersTimeout} ms`));
        return;
      }
      // The body's readers see the timeout itself, not the reset that destroying the request gives them.
      response.destroy(new UpstreamTimeoutError(`the upstream sent nothing for ${options.bodyTimeout} ms mid-reply`));
      req.destroy();
    });
    // After the head, a failure reaches the body's readers; before it, the caller.
    req.on("error", (error) => {
      if (response === undefined) reject(error);
    });
    req.end(options.body);
  });
}

/** The whole body, for a reply that declared its length (fails if fewer bytes arrive). */
export function readWholeBody(body: UpstreamBody): Promise<Buffer> {
  if (body.errored !== null || (body.destroyed && !body.complete)) return Promise.reject(body.errored ?? new Error("the upstream's reply was already closed"));
  if (body.readableEnded) return Promise.reject(new Error("the upstream's reply was already read"));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    });
    body.once("end", () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    body.once("error", reject);
    body.once("close", () => {
      if (!body.complete) reject(new Error("the upstream closed the connection mid-reply"));
    });
  });
}

function noop(): void {}
