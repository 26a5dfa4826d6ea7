// Routing for the operator's HTTPS and admin servers: express's router (the `router`
// package, which express 5 is built on and exports as express.Router) as a thin layer
// that picks the handler for a path and method; the handlers are small and speak
// node:http. Paths match exactly — case-sensitive, no trailing-slash leeway, query strings
// ignored. Why the router and not the whole of express, and why the sidecar has neither:
// docs/adr/0007-http-routing.md.
import type { IncomingMessage, ServerResponse } from "node:http";
import Router from "router";

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;
type Middleware = Router.RequestHandler;

export function createRouter(): Router.Router {
  return new Router({ caseSensitive: true, strict: true });
}

export interface RouterEnds {
  /** What no route answered. */
  notFound: RequestHandler;
  /** What a handler threw or rejected with: logged, then `internalError` if nothing was sent yet, else the connection is cut. */
  failed: (error: unknown, request: IncomingMessage) => void;
  internalError: RequestHandler;
}

/** The router as a node:http request handler. */
export function serveRoutes(router: Router.Router, ends: RouterEnds): RequestHandler {
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
