// The upstream HTTP client: undici's Agent and its request API, imported from the undici
// modules they live in rather than from undici's index, which also brings fetch, the
// WebSocket client, caches and mocks — 948 KB of the bundle against 564 KB, and every
// sidecar parses what it bundles (docs/architecture.md "What the sidecar loads").

import type { Dispatcher } from "undici";
import Agent from "undici/lib/dispatcher/agent.js";
import undiciApi from "undici/lib/api/index.js";

export interface UpstreamAgent {
  request(options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  close(): Promise<void>;
}

export function createUpstreamAgent(): UpstreamAgent {
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256, pipelining: 1 });
  return {
    // undici's index adds its API to every dispatcher's prototype; without the index, it is called on the agent.
    request: (options) => undiciApi.request.call(agent, options),
    close: () => agent.close(),
  };
}
