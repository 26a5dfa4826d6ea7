// An upstream redirect is never followed and never relayed: a Location could send the
// client (with its credentials) anywhere, and a server that redirects its MCP endpoint
// (Starlette answers /mcp with 307 to /mcp/) is a misconfigured upstream path. The client
// gets a JSON-RPC error naming the status; the operator gets one log line with the advice.

import type { ProxyLogger } from "../options.ts";

export function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

export function redirectMessage(status: number): string {
  return (
    `the MCP server answered HTTP ${status} (a redirect), which the sidecar does not follow: ` +
    "the sidecar's upstream path is not the server's MCP endpoint; the operator must correct it"
  );
}

/** Logs the first redirect of an upstream (a misconfiguration repeats on every request). */
export class RedirectLog {
  #logged = false;

  note(logger: ProxyLogger, status: number, location: string | string[] | undefined): void {
    if (this.#logged) return;
    this.#logged = true;
    logger.warn(
      { status, location: Array.isArray(location) ? location[0] : location },
      "the upstream redirected a request; the sidecar never follows redirects: set --upstream (or the pod's mcpwarden.dev/upstream-path annotation) to the URL it redirects to",
    );
  }
}
