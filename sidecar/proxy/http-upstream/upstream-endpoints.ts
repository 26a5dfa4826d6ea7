// Where requests to an HTTP upstream go: always its configured origin. The Streamable HTTP
// endpoint is the configured URL; the legacy event stream its `sseUrl` (default /sse on the
// same origin); a forwarded path the same path on that origin. Every target is built from
// the origin and a normalised path and checked to keep that origin (intake/request-target.ts).

import { upstreamUrlFor } from "../intake/request-target.ts";
import type { HttpUpstream } from "../options.ts";

/** A request's destination as the upstream agent takes it. */
export interface UpstreamTarget {
  readonly origin: string;
  readonly path: string;
}

export class UpstreamEndpoints {
  readonly origin: string;
  /** The Streamable HTTP endpoint's path, as clients may also name it. */
  readonly mcpPath: string;
  readonly #mcp: URL;
  readonly #mcpTarget: UpstreamTarget;
  readonly #sse: URL;

  constructor(upstream: HttpUpstream) {
    this.#mcp = new URL(upstream.url);
    this.origin = this.#mcp.origin;
    this.mcpPath = this.#mcp.pathname;
    this.#mcpTarget = { origin: this.origin, path: this.#mcp.pathname + this.#mcp.search };
    this.#sse = new URL(upstream.sseUrl ?? new URL("/sse", upstream.url).href);
    if (this.#sse.origin !== this.origin) throw new RangeError(`the legacy SSE URL ${this.#sse.origin} must have the upstream's origin ${this.origin}`);
  }

  /** The Streamable HTTP endpoint, with the client's query added to the configured one. */
  mcp(search: string): UpstreamTarget {
    if (search === "" || search === "?") return this.#mcpTarget;
    const url = new URL(this.#mcp);
    for (const [name, value] of new URLSearchParams(search)) url.searchParams.append(name, value);
    return { origin: this.origin, path: url.pathname + url.search };
  }

  /** The legacy event stream, with the client's query added. */
  sse(search: string): UpstreamTarget {
    const url = new URL(this.#sse);
    for (const [name, value] of new URLSearchParams(search)) url.searchParams.append(name, value);
    return { origin: this.origin, path: url.pathname + url.search };
  }

  /** A normalised path on the upstream's origin; undefined if it would leave it. */
  path(path: string, search: string): UpstreamTarget | undefined {
    return upstreamUrlFor(this.origin, path + search);
  }

  /**
   * Where the legacy transport's messages go: the server's `endpoint` event, resolved
   * against its stream URL. undefined when it names another origin: a server cannot send
   * the sidecar (and its clients' headers) elsewhere.
   */
  legacyMessages(endpoint: string): UpstreamTarget | undefined {
    let url: URL;
    try {
      url = new URL(endpoint.trim(), this.#sse);
    } catch {
      return undefined;
    }
    if (url.origin !== this.origin) return undefined;
    return { origin: this.origin, path: url.pathname + url.search };
  }
}
