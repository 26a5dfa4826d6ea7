// The watch wrapper against a fake API server: it lists then watches, restarts a watch
// that failed, and, once stopped, is never restarted by the error its own stop causes.
import { afterEach, describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { silentLogger } from "../operator-logger.ts";
import { KubeHttp } from "./kube-http.ts";
import { KubeStoreFactory } from "./kube-watched-store.ts";

interface FakeApi {
  server: Server;
  url: string;
  lists: number;
  watches: number;
  /** Open watch responses. */
  open: ServerResponse[];
  failNextLists: number;
  /** Hold watch requests without answering (a stop then aborts a pending request). */
  holdWatches: boolean;
  held: ServerResponse[];
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function fakeApi(): Promise<FakeApi> {
  const api: FakeApi = { server: undefined as unknown as Server, url: "", lists: 0, watches: 0, open: [], failNextLists: 0, holdWatches: false, held: [] };
  api.server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "", "http://x");
    if (url.searchParams.get("watch") === "true") {
      api.watches++;
      if (api.holdWatches) {
        api.held.push(response);
        return;
      }
      response.writeHead(200, { "content-type": "application/json" });
      response.write(`${JSON.stringify({ type: "ADDED", object: { metadata: { name: `w${api.watches}`, namespace: "n", resourceVersion: String(10 + api.watches) } } })}\n`);
      api.open.push(response);
      return;
    }
    api.lists++;
    if (api.failNextLists > 0) {
      api.failNextLists--;
      response.writeHead(500).end(JSON.stringify({ message: "etcd is having a moment" }));
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ metadata: { resourceVersion: "1" }, items: [{ metadata: { name: "a", namespace: "n", resourceVersion: "1", managedFields: [{ manager: "x" }] } }] }));
  });
  servers.push(api.server);
  await new Promise<void>((resolve) => api.server.listen(0, "127.0.0.1", resolve));
  api.url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  return api;
}

function storeFor(api: FakeApi) {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: "c", server: api.url, skipTLSVerify: true }], // client-node refuses plain HTTP otherwise
    users: [{ name: "u" }],
    contexts: [{ name: "ctx", cluster: "c", user: "u" }],
    currentContext: "ctx",
  });
  return new KubeStoreFactory(config, new KubeHttp(config), silentLogger()).watch<{ metadata?: { name?: string; managedFields?: unknown } }>({ path: "/api/v1/pods", description: "pods" });
}

describe("KubeWatchedStore", () => {
  it("lists (without managedFields), then watches", async () => {
    const api = await fakeApi();
    const store = storeFor(api);
    await store.start();
    expect(store.synced).toBe(true);
    expect(store.get("n", "a")?.metadata?.managedFields).toBeUndefined();
    await expect.poll(() => store.get("n", "w1")?.metadata?.name).toBe("w1");
    await store.stop();
  });

  it("restarts a watch whose list failed, with backoff", async () => {
    const api = await fakeApi();
    api.failNextLists = 2;
    const store = storeFor(api);
    await store.start(); // resolves only once a list succeeded
    expect(api.lists).toBe(3);
    await store.stop();
  });

  for (const hold of [false, true]) {
    it(`is not restarted by the error its own stop causes (watch ${hold ? "pending" : "streaming"})`, async () => {
      const api = await fakeApi();
      api.holdWatches = hold;
      const store = storeFor(api);
      await store.start();
      await expect.poll(() => api.watches).toBe(1);
      await store.stop();
      const before = { lists: api.lists, watches: api.watches };
      // client-node 2.0.1 lets a pending watch run on after stop(); when it then fails,
      // the error reaches the store's error handler, which must not restart it.
      for (const response of api.held.splice(0)) response.writeHead(500).end("{}");
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect({ lists: api.lists, watches: api.watches }).toEqual(before);
    });
  }

  it("restarts a watch the server broke off with an error", async () => {
    const api = await fakeApi();
    const store = storeFor(api);
    await store.start();
    await expect.poll(() => api.watches).toBe(1);
    for (const response of api.open.splice(0)) response.destroy(); // connection reset
    await expect.poll(() => api.watches, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    await store.stop();
  });
});
