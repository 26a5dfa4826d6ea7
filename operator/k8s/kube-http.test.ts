import { afterEach, describe, expect, it } from "vitest";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { HttpMethod, KubeHttp } from "./kube-http.ts";
import { createCertificateAuthority, issueCertificate } from "../tls/certificates.ts";

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

  it("answers every one of many concurrent first requests over TLS (one pool, none closed under another request)", async () => {
    const ca = await createCertificateAuthority("kube-http-test-ca");
    const serving = await issueCertificate(ca, { commonName: "api", hosts: ["127.0.0.1"], usage: "server" });
    server = createTlsServer({ cert: serving.certPem, key: serving.keyPem }, (_request, response) => {
      response.writeHead(200, { "content-type": "application/json" }).end('{"kind":"List","items":[]}');
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromOptions({
      clusters: [{ name: "c", server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caData: Buffer.from(ca.certPem).toString("base64") }],
      users: [{ name: "u", token: "t0k3n" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    http = new KubeHttp(kubeconfig);
    // As the operator's informers do at start: all list at once.
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => http!.request(HttpMethod.GET, `/apis/list-${i}`)));
    expect(results.filter((result) => result.status === "rejected").map((result) => String((result as PromiseRejectedResult).reason))).toEqual([]);
    expect(results.map((result) => (result as PromiseFulfilledResult<{ status: number }>).value.status)).toEqual(Array(8).fill(200));
  });
});
