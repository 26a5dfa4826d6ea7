// Where a client's request may go. The request target is checked and normalised once,
// with the WHATWG URL parser, before anything else reads it; the route is chosen from the
// normalised path only. What cannot be normalised one way (encoded slashes or dot
// segments, backslashes, control characters, absolute-form or authority-form targets) is
// refused with 400: a second parser (the upstream's) could read it another way. Only MCP
// endpoints are routed by default; any other path is 404 unless an operator lists it.

/** What a normalised request is for. */
type RouteKind =
  /** The Streamable HTTP endpoint: /mcp, or the upstream URL's own path. */
  | "mcp"
  /** The legacy (2024-11-05) transport: its event stream and its message endpoint. */
  | "legacy-stream"
  | "legacy-messages"
  /** MCP authorization discovery (RFC 9728), relayed to an HTTP upstream. */
  | "protected-resource-metadata"
  /** A path an operator listed with --forward-path. */
  | "forwarded";

export type RequestTarget =
  | { readonly ok: true; readonly kind: RouteKind; readonly path: string; readonly search: string }
  | { readonly ok: false; readonly status: 400 | 404; readonly message: string };

export interface RouteTable {
  /** Paths that are the Streamable HTTP endpoint (normalised, exact). */
  readonly mcpPaths: ReadonlySet<string>;
  /** Whether the RFC 9728 metadata path is relayed (an HTTP upstream serves it). */
  readonly protectedResourceMetadata: boolean;
  /** --forward-path prefixes, normalised ("/api"): whole segments match. */
  readonly forwardPrefixes: readonly string[];
}

const LEGACY_STREAM_PATH = "/sse";
export const LEGACY_MESSAGES_PATH = "/messages";
const PROTECTED_RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource";

import { unnormalisable } from "../../../protocol/request-paths.ts";

const BASE = "http://sidecar.invalid";
const BASE_ORIGIN = new URL(BASE).origin;

/**
 * The route of a request, or why it is refused. `rawTarget` is the request line's target
 * as Node read it (`req.url`): only origin-form (`/path?query`) is accepted.
 */
export function resolveRequestTarget(method: string | undefined, rawTarget: string | undefined, routes: RouteTable): RequestTarget {
  if (method === "CONNECT") return badRequest("CONNECT is not supported: the sidecar is not a forward proxy");
  const target = rawTarget ?? "";
  // The common case, answered without parsing anything.
  if (target === "/mcp" && routes.mcpPaths.has("/mcp")) return { ok: true, kind: "mcp", path: "/mcp", search: "" };
  if (!target.startsWith("/")) {
    return badRequest(
      target === "*" ? "the asterisk-form request target is not supported" : "the request target must be a path (origin-form); absolute-form and authority-form targets are refused",
    );
  }
  // "//host/x" would be read as a new authority by a URL parser.
  if (target.startsWith("//")) return badRequest("the request target must not begin with '//'");
  const query = target.indexOf("?");
  const rawPath = query < 0 ? target : target.slice(0, query);
  const problem = unnormalisable(target, rawPath);
  if (problem !== undefined) return badRequest(problem);
  let url: URL;
  try {
    url = new URL(target, BASE);
  } catch {
    return badRequest("the request target is not a valid path");
  }
  if (url.origin !== BASE_ORIGIN) return badRequest("the request target names another host");
  const path = url.pathname;
  const kind = routeOf(path, routes);
  if (kind === undefined) {
    const listed = [...routes.mcpPaths, LEGACY_STREAM_PATH, LEGACY_MESSAGES_PATH].join(", ");
    return {
      ok: false,
      status: 404,
      message: `Not Found: the sidecar forwards only MCP endpoints (${listed}); an operator can list other paths with --forward-path`,
    };
  }
  return { ok: true, kind, path, search: url.search };
}

function routeOf(path: string, routes: RouteTable): RouteKind | undefined {
  if (routes.mcpPaths.has(path)) return "mcp";
  if (path === LEGACY_STREAM_PATH) return "legacy-stream";
  if (path === LEGACY_MESSAGES_PATH) return "legacy-messages";
  if (routes.protectedResourceMetadata && segmentPrefixMatches(PROTECTED_RESOURCE_METADATA_PATH, path)) return "protected-resource-metadata";
  for (const prefix of routes.forwardPrefixes) if (segmentPrefixMatches(prefix, path)) return "forwarded";
  return undefined;
}

/** `/api` matches `/api` and `/api/x`, not `/apix`; `/` matches every path. */
function segmentPrefixMatches(prefix: string, path: string): boolean {
  if (prefix === "/") return true;
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 0x2f);
}

function badRequest(message: string): RequestTarget {
  return { ok: false, status: 400, message: `Bad Request: ${message}` };
}

/**
 * The URL a request is sent to: the upstream's origin and a normalised path, checked to
 * have that origin before anything is sent (a path can never name another host).
 * undefined when the check fails.
 */
export function upstreamUrlFor(upstreamOrigin: string, pathAndSearch: string): { origin: string; path: string } | undefined {
  if (!pathAndSearch.startsWith("/")) return undefined;
  let url: URL;
  try {
    url = new URL(upstreamOrigin + pathAndSearch);
  } catch {
    return undefined;
  }
  if (url.origin !== upstreamOrigin) return undefined;
  return { origin: url.origin, path: url.pathname + url.search };
}
