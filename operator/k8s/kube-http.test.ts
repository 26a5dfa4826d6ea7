import { afterEach, describe, expect, it } from "vitest";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { HttpMethod, KubeHttp } from "./kube-http.ts";

let server: Server | undefined;
let http: KubeHttp | undefined;
afterEach(async () => {
  await http?.close();
  await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
  server = undefined;
});

/** A stand-in API server on plain HTTP that records each request's headers and socket. */
async function recordingServer(): Promise<{ url: string; seen: { headers: IncomingHttpHeaders; socket: number }[] }> {
  const seen: { headers: IncomingHttpHeaders; socket: number }[] = [];
  const sockets = new WeakMap<object, number>();
  let next = 0;
  server = createServer((request, response) => {
    if (!sockets.has(request.socket)) sockets.set(request.socket, next++);
    seen.push({ headers: request.headers, socket: sockets.get(request.socket) ?? -1 });
    response.writeHead(200, { "content-type": "application/json" }).end('{"kind":"Status"}');
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function config(server: string, user: Record<string, string>): KubeConfig {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromOptions({
    // Plain HTTP is allowed only with skipTLSVerify (there is no TLS to verify).
    clusters: [{ name: "c", server, skipTLSVerify: true }],
    users: [{ name: "u", ...user }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kubeconfig;
}

describe("KubeHttp", () => {
  it("sends the kubeconfig's bearer token and reuses pooled connections across requests", async () => {
    const { url, seen } = await recordingServer();
    http = new KubeHttp(config(url, { token: "t0k3n" }));
    expect(await http.request(HttpMethod.GET, "/api")).toEqual({ status: 200, body: { kind: "Status" } });
    for (let i = 0; i < 9; i++) await http.request(HttpMethod.GET, "/apis");
    expect(seen.map((request) => request.headers.authorization)).toEqual(Array(10).fill("Bearer t0k3n"));
    // A new pool per request would open ten; the pool may open a second while the first
    // is still being released.
    expect(new Set(seen.map((request) => request.socket)).size).toBeLessThanOrEqual(2);
  });

  it("sends Basic credentials for a user with a password", async () => {
    const { url, seen } = await recordingServer();
    http = new KubeHttp(config(url, { username: "admin", password: "s3cret" }));
    await http.request(HttpMethod.GET, "/api");
    expect(seen[0]?.headers.authorization).toBe(`Basic ${Buffer.from("admin:s3cret").toString("base64")}`);
  });
});
