// The client side of the proxy's HTTP server: how many connections it holds at once
// (--max-connections: one more is answered 503 with Retry-After and closed at once), how
// long a client may take to send its headers (--header-timeout) and its body
// (--body-timeout) before it is dropped with 408 — slow-loris clients — and CONNECT
// refused. Neither timeout touches a request once it has arrived: a long-lived GET stream,
// a call held for approval or a slow upstream answer runs as long as it needs.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { SIDECAR_TUNABLES } from "../../protocol/sidecar-tunables.ts";
import { INTERNAL_ERROR, INVALID_REQUEST, errorResponse } from "../jsonrpc/error-codes.ts";
import { positive, type ClientTimeouts } from "./options.ts";
import type { ProxyCore } from "./proxy-core.ts";

/** What a client refused for want of a connection is told to wait. */
const CONNECTION_RETRY_AFTER_SECONDS = 1;

export class ClientConnections {
  readonly maxConnections: number;
  readonly headerTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly #core: ProxyCore;
  #open = 0;
  /** Connections answered 503: any request parsed from them is ignored. */
  readonly #refused = new WeakSet<Socket>();

  constructor(core: ProxyCore, timeouts: ClientTimeouts | undefined) {
    this.#core = core;
    this.maxConnections = core.limits.maxConnections;
    this.headerTimeoutMs = positive(timeouts?.headerTimeoutMs, SIDECAR_TUNABLES.headerTimeout.defaultValue, "headerTimeoutMs");
    this.bodyTimeoutMs = positive(timeouts?.bodyTimeoutMs, SIDECAR_TUNABLES.bodyTimeout.defaultValue, "bodyTimeoutMs");
  }

  get open(): number {
    return this.#open;
  }

  /** Counts a new connection, or answers it 503 and closes it when the cap is reached. */
  accept(socket: Socket): void {
    if (this.#open >= this.maxConnections) {
      this.#refused.add(socket);
      this.#core.logger.warn({ maxConnections: this.maxConnections }, "refused a client connection: the sidecar holds its maximum (--max-connections)");
      const body = JSON.stringify(
        errorResponse(null, INTERNAL_ERROR, `Service Unavailable: the sidecar holds its maximum of ${this.maxConnections} client connections (--max-connections)`),
      );
      socket.end(
        "HTTP/1.1 503 Service Unavailable\r\n" +
          `Retry-After: ${CONNECTION_RETRY_AFTER_SECONDS}\r\n` +
          "Content-Type: application/json\r\n" +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          "Connection: close\r\n\r\n" +
          body,
      );
      socket.on("error", noop);
      // Whatever the client still sends is not read.
      setTimeout(() => socket.destroy(), 1_000).unref();
      return;
    }
    this.#open++;
    socket.once("close", () => this.#open--);
  }

  /** Whether a request arrived on a connection that was refused (it is dropped unanswered). */
  refused(req: IncomingMessage): boolean {
    return this.#refused.has(req.socket);
  }
}

export function createClientServer(handler: (req: IncomingMessage, res: ServerResponse) => void, connections: ClientConnections): Server {
  const server = createServer(
    {
      headersTimeout: connections.headerTimeoutMs,
      requestTimeout: connections.headerTimeoutMs + connections.bodyTimeoutMs,
      // Node looks for expired requests this often: often enough for the timeouts to hold.
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(connections.headerTimeoutMs / 4))),
    },
    (req, res) => {
      if (connections.refused(req)) {
        req.socket.destroy();
        return;
      }
      handler(req, res);
    },
  );
  server.on("connection", (socket: Socket) => connections.accept(socket));
  // The sidecar is no forward proxy: a CONNECT tunnel is refused, never opened.
  server.on("connect", (_req: IncomingMessage, socket: Socket) => {
    const body = JSON.stringify(errorResponse(null, INVALID_REQUEST, "Bad Request: CONNECT is not supported: the sidecar is not a forward proxy"));
    socket.on("error", noop);
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  return server;
}

function noop(): void {}
