// Routing for the operator's HTTPS and admin servers: express's Router as a thin layer
// that picks the handler for a path and method; the handlers are small and speak
// node:http (no express request/response extensions, no body parsers: each endpoint reads
// its own body with its own limit). Paths match exactly — case-sensitive, no
// trailing-slash leeway, query strings ignored. Why the sidecar does not use express:
// docs/adr/0007-http-routing.md.
import type { IncomingMessage, ServerResponse } from "node:http";
import express from "express";

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;
type Next = (error?: unknown) => void;
type Middleware = (request: IncomingMessage, response: ServerResponse, next: Next) => void;

type RouteMethod = (path: string | string[], ...handlers: Middleware[]) => Router;

/** express's Router as the route tables use it, in node:http terms. */
export interface Router {
  (request: IncomingMessage, response: ServerResponse, done: Next): void;
  use(...handlers: Middleware[]): Router;
  all: RouteMethod;
  get: RouteMethod;
  head: RouteMethod;
  post: RouteMethod;
}

export function createRouter(): Router {
  // express's Router is typed for express's request and response; it runs on node:http's.
  return express.Router({ caseSensitive: true, strict: true }) as unknown as Router;
}

export interface RouterEnds {
  /** What no route answered. */
  notFound: RequestHandler;
  /** What a handler threw or rejected with: logged, then `internalError` if nothing was sent yet, else the connection is cut. */
  failed: (error: unknown, request: IncomingMessage) => void;
  internalError: RequestHandler;
}

/** The router as a node:http request handler. */
export function serveRoutes(router: Router, ends: RouterEnds): RequestHandler {
  return (request, response) =>
    router(request, response, (error) => {
      if (error === undefined || error === null || error === "router" || error === "route") return ends.notFound(request, response);
      ends.failed(error, request);
      if (!response.headersSent) ends.internalError(request, response);
      else response.destroy();
    });
}

/**
 * Leaves the router for an absolute-form request target (`GET http://host/v1/stream`): it
 * names no path of ours, though the router would route on the path inside it.
 */
export const originFormOnly: Middleware = (request, _response, next) => next(request.url?.startsWith("/") === true ? undefined : "router");

/** Every method but `methods` gets 405 with Allow and no body. */
export function onlyMethods(methods: readonly string[]): Middleware {
  const allow = methods.join(", ");
  return (request, response, next) => (methods.includes(request.method ?? "") ? next() : void response.writeHead(405, { allow }).end());
}

/** 405 with Allow and no body. */
export function methodNotAllowed(allow: string): RequestHandler {
  return (_request, response) => void response.writeHead(405, { allow }).end();
}
