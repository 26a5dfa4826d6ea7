// The sidecar sends requests to its configured upstream and nowhere else (issue 11), tried
// through the real process with raw request lines: every way to name another host (dot
// segments, encoded forms, '//', absolute- and authority-form targets, backslashes,
// CONNECT) is refused with 400 or 404; the canary — standing for every other host — is
// never reached, nor is the upstream. Only MCP endpoints are forwarded unless an operator
// lists a path; a JSON-RPC body sent there is still decided. An upstream redirect is never
// followed or relayed, and a legacy endpoint on another origin is never used.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCanary, startCountingUpstream, type Canary, type CountingUpstream } from "../support/boundary-servers.ts";
import { rawHttp, startSidecarProcess, type SidecarProcess } from "../support/sidecar-process.ts";

const POLICY = `apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: boundary }
spec:
  default: deny
  tools:
    echo: {}
    delete_all: { action: deny, reason: "destructive" }
`;

const INITIALIZE = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } });
const callTool = (name: string): string => JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name, arguments: {} } });

function post(path: string, body: string, extraHeaders = ""): string {
  return `POST ${path} HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nAuthorization: Bearer secret-token\r\n${extraHeaders}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

function get(target: string, method = "GET"): string {
  return `${method} ${target} HTTP/1.1\r\nHost: sidecar\r\nAuthorization: Bearer secret-token\r\nConnection: close\r\n\r\n`;
}

let canary: Canary;
let upstream: CountingUpstream;
let sidecar: SidecarProcess;
let forwarding: SidecarProcess;
let redirected: SidecarProcess;

beforeAll(async () => {
  canary = await startCanary();
  upstream = await startCountingUpstream(canary);
  [sidecar, forwarding, redirected] = await Promise.all([
    startSidecarProcess({ policy: POLICY, upstream: { url: upstream.url } }),
    startSidecarProcess({ policy: POLICY, upstream: { url: upstream.url }, args: ["--forward-path", "/api"] }),
    startSidecarProcess({ policy: POLICY, upstream: { url: `${upstream.origin}/redirect` } }),
  ]);
});

afterAll(async () => {
  await Promise.all([sidecar?.close(), forwarding?.close(), redirected?.close()]);
  await upstream?.close();
  await canary?.close();
});

describe("requests go to the configured upstream and nowhere else (real sidecar process)", () => {
  const host = (): string => `127.0.0.1:${canary.port}`;
  const cases: [string, () => string, number][] = [
    ["dot segments before '//'", () => get(`/..//${host()}/latest/meta-data`), 404],
    ["a dot segment before '//'", () => get(`/.//${host()}/x`), 404],
    ["'..' after the MCP path", () => get(`/mcp/..//${host()}/x`), 404],
    ["a POST after dot segments", () => post(`/mcp/..//${host()}/mcp`, INITIALIZE), 404],
    ["a target beginning with '//'", () => get(`//${host()}/x`), 400],
    ["percent-encoded dot segments", () => get(`/%2e%2e//${host()}/x`), 400],
    ["mixed-case encoded dots", () => get(`/mcp/%2E./${host()}/x`), 400],
    ["an encoded slash", () => get(`/mcp/%2f%2f${host()}/x`), 400],
    ["an encoded backslash", () => get(`/mcp%5c..%5c${host()}`), 400],
    ["a backslash", () => get(`/mcp\\..\\${host()}/x`), 400],
    ["an encoded control character", () => get(`/mcp%00/${host()}`), 400],
    ["an absolute-form target", () => get(`http://x//${host()}/y`), 400],
    ["an absolute-form target naming the canary", () => post(`http://${host()}/mcp`, INITIALIZE), 400],
    ["an authority-form target (CONNECT)", () => `CONNECT ${host()} HTTP/1.1\r\nHost: ${host()}\r\n\r\n`, 400],
    ["the asterisk-form target", () => get("*", "OPTIONS"), 400],
    ["an unlisted path", () => get("/admin"), 404],
    ["a path that only starts like the MCP endpoint", () => post("/mcpx", INITIALIZE), 404],
  ];

  it.each(cases)("%s: refused, the canary and the upstream untouched", async (_name, request, status) => {
    const before = upstream.requests.length;
    const reply = await rawHttp(sidecar.port, request());
    expect(reply.status).toBe(status);
    expect(reply.head.toLowerCase()).not.toContain("location:");
    if (reply.body.startsWith("{")) expect(JSON.parse(reply.body)).toMatchObject({ jsonrpc: "2.0", error: { code: -32600 } });
    expect(canary.hits()).toBe(0);
    expect(upstream.requests.length).toBe(before);
  });

  it("methods the MCP endpoint does not take are refused; the upstream untouched", async () => {
    const before = upstream.requests.length;
    for (const method of ["PUT", "PATCH", "TRACE"]) expect((await rawHttp(sidecar.port, get("/mcp", method))).status).toBe(405);
    expect(upstream.requests.length).toBe(before);
  });

  it("the MCP endpoint and discovery metadata still reach the upstream, at its own origin", async () => {
    const before = upstream.requests.length;
    expect((await rawHttp(sidecar.port, post("/mcp", INITIALIZE))).status).toBe(200);
    const metadata = await rawHttp(sidecar.port, get("/.well-known/oauth-protected-resource/mcp"));
    expect(metadata.status).toBe(200);
    expect(JSON.parse(metadata.body)).toMatchObject({ resource: "http://mcp.example/mcp" });
    expect(upstream.requests.slice(before).map((request) => request.path)).toEqual(["/mcp", "/.well-known/oauth-protected-resource/mcp"]);
    expect(canary.hits()).toBe(0);
  });
});

describe("--forward-path", () => {
  it("lets exactly the listed prefix through, whole segments only, to the upstream origin", async () => {
    const before = upstream.requests.length;
    expect((await rawHttp(forwarding.port, get("/api"))).status).toBe(200);
    const nested = await rawHttp(forwarding.port, get("/api/v1/runs?limit=2"));
    expect(nested.status).toBe(200);
    expect(nested.body).toBe("api GET /api/v1/runs?limit=2 ");
    expect((await rawHttp(forwarding.port, get("/apix"))).status).toBe(404);
    expect((await rawHttp(forwarding.port, get("/api/../admin"))).status).toBe(404);
    expect((await rawHttp(forwarding.port, get(`/api/..//127.0.0.1:${canary.port}/x`))).status).toBe(404);
    expect(upstream.requests.slice(before).map((request) => request.path)).toEqual(["/api", "/api/v1/runs?limit=2"]);
    expect(canary.hits()).toBe(0);
  });

  it("a JSON-RPC body sent to a forwarded path is decided as on the MCP endpoint", async () => {
    const before = upstream.calledTools().length;
    // Denied by the policy: answered by the sidecar, never forwarded, whatever the content type says.
    for (const contentType of ["application/json", "text/plain"]) {
      const reply = await rawHttp(forwarding.port, post("/api/rpc", callTool("delete_all")).replace("Content-Type: application/json", `Content-Type: ${contentType}`));
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body)).toMatchObject({ id: 7, result: { isError: true, _meta: { "mcpwarden.dev/decision": { decision: "deny", reason: "destructive" } } } });
    }
    // JSON that does not parse strictly could still be read as a message upstream: refused.
    const duplicate = await rawHttp(forwarding.port, post("/api/rpc", '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"delete_all"}}'));
    expect(duplicate.status).toBe(400);
    expect(upstream.calledTools().length).toBe(before);
    // Allowed: forwarded to the same path on the upstream.
    const allowed = await rawHttp(forwarding.port, post("/api/rpc", callTool("echo")));
    expect(allowed.status).toBe(200);
    expect(upstream.requests.at(-1)?.path).toBe("/api/rpc");
  });

  it("a body that is not JSON is forwarded as it is", async () => {
    const reply = await rawHttp(forwarding.port, post("/api/upload", "name=report&size=3").replace("application/json", "application/x-www-form-urlencoded"));
    expect(reply.status).toBe(200);
    expect(reply.body).toBe("api POST /api/upload name=report&size=3");
  });
});

describe("an upstream redirect is never relayed or followed", () => {
  it("the client gets a JSON-RPC error for its request, no Location, and the canary is untouched", async () => {
    const reply = await rawHttp(redirected.port, post("/mcp", INITIALIZE));
    expect(reply.head.toLowerCase()).not.toContain("location:");
    expect(reply.body).not.toContain(String(canary.port));
    const body = JSON.parse(reply.body) as { id: number; error: { code: number; message: string } };
    expect(body).toMatchObject({ id: 1, error: { code: -32603 } });
    expect(body.error.message).toContain("HTTP 307");
    expect(body.error.message).toContain("upstream path");
    const passThrough = await rawHttp(redirected.port, get("/mcp", "DELETE"));
    expect(passThrough.status).toBe(502);
    expect(passThrough.head.toLowerCase()).not.toContain("location:");
    expect(canary.hits()).toBe(0);
    // Logged once, with the advice, however often it happens (logs are flushed asynchronously).
    const logged = (): number => redirected.output().match(/the upstream redirected a request/g)?.length ?? 0;
    for (let i = 0; i < 40 && logged() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(logged()).toBe(1);
  });

  it("a legacy SSE endpoint on another origin is never used", async () => {
    // The upstream's /sse names the canary as the place to POST messages.
    const reply = await rawHttp(sidecar.port, "GET /sse HTTP/1.1\r\nHost: s\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n", 3_000, true);
    expect(reply.status).toBe(200);
    expect(reply.body).not.toContain(`127.0.0.1:${canary.port}`);
    expect(reply.body).toContain("another origin");
    const messages = await rawHttp(sidecar.port, post("/messages?sessionId=anything", callTool("echo")));
    expect(messages.status).toBe(404);
    expect(canary.hits()).toBe(0);
  });
});
