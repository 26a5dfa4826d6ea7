import { afterEach, describe, expect, it } from "vitest";
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { OperatorMetrics } from "../metrics/operator-metrics.ts";
import { silentLogger } from "../operator-logger.ts";
import { buildBundle, type PodBundle } from "../reconcile/policy-catalog.ts";
import { answer, exchange } from "../../test/support/http-exchange.ts";
import { PolicyStreamServer, type StreamApprovals } from "./policy-stream-server.ts";
import type { AuthenticationResult, BoundPod } from "./stream-authenticator.ts";

const podA: BoundPod = { namespace: "agents", name: "a", uid: "uid-a", serviceAccount: "default" };
const podB: BoundPod = { namespace: "agents", name: "b", uid: "uid-b", serviceAccount: "default" };

interface Setup {
  server: PolicyStreamServer;
  http: Server;
  port: number;
  bundles: Map<string, PodBundle>;
  acks: { pod: string; revision: string }[];
  metrics: OperatorMetrics;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function bundle(tag: string): PodBundle {
  // A distinct revision per tag, with the real serialisation.
  const built = buildBundle([]);
  const revision = Buffer.from(tag).toString("hex").padEnd(16, "0").slice(0, 16);
  const withRevision = { ...built.bundle, revision };
  return { ...built, revision, bundle: withRevision, json: JSON.stringify(withRevision) };
}

async function setUp(heartbeatMs = 60_000, approvals?: StreamApprovals): Promise<Setup> {
  const bundles = new Map<string, PodBundle>([
    ["uid-a", bundle("a1")],
    ["uid-b", bundle("b1")],
  ]);
  const acks: { pod: string; revision: string }[] = [];
  const metrics = new OperatorMetrics({ processMetrics: false });
  const tokens: Record<string, AuthenticationResult> = {
    "token-a": { ok: true, pod: podA },
    "token-b": { ok: true, pod: podB },
    expired: { ok: false, status: 401, message: "the token was not accepted: expired" },
    elsewhere: { ok: false, status: 403, message: "not from that pod" },
  };
  const server = new PolicyStreamServer({
    authenticator: { authenticate: async (token) => tokens[token] ?? { ok: false, status: 401, message: "unknown" } },
    bundleFor: (pod) => bundles.get(pod.uid),
    acks: { record: async (pod, revision) => void acks.push({ pod: pod.name, revision }) },
    ...(approvals === undefined ? {} : { approvals }),
    metrics,
    heartbeatMs,
    logger: silentLogger(),
  });
  const http = createServer((req, res) => server.handle(req, res));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => {
    server.close();
    http.closeAllConnections();
    http.close();
  });
  return { server, http, port: (http.address() as AddressInfo).port, bundles, acks, metrics };
}

interface OpenStream {
  status: number;
  events: { event: string; data: string }[];
  comments: number;
  response: IncomingMessage;
  body: string;
}

function openStream(port: number, token: string | undefined): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/v1/stream", headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }, (response) => {
      const stream: OpenStream = { status: response.statusCode ?? 0, events: [], comments: 0, response, body: "" };
      let buffer = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        stream.body += chunk;
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (frame.startsWith(":")) stream.comments++;
          else {
            const event = /^event: (.*)$/m.exec(frame)?.[1] ?? "message";
            const data = /^data: (.*)$/m.exec(frame)?.[1] ?? "";
            stream.events.push({ event, data });
          }
        }
      });
      resolve(stream);
    });
    req.on("error", reject);
    cleanups.push(() => req.destroy());
    req.end();
  });
}

function post(port: number, path: string, token: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } }, (response) => {
      let text = "";
      response.on("data", (chunk: Buffer) => (text += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("PolicyStreamServer", () => {
  it("sends the bound pod's bundle at connect, and only that pod's", async () => {
    const { port, bundles } = await setUp();
    const stream = await openStream(port, "token-a");
    expect(stream.status).toBe(200);
    expect(stream.response.headers["content-type"]).toContain("text/event-stream");
    await expect.poll(() => stream.events.length).toBe(1);
    expect(stream.events[0]).toEqual({ event: "bundle", data: bundles.get("uid-a")?.json });
    expect(JSON.parse(stream.events[0]?.data ?? "{}")).toMatchObject({ revision: bundles.get("uid-a")?.revision, policies: [], table: { policies: [] } });
  });

  it("pushes a new bundle when the revision changes, to that pod's streams alone", async () => {
    const { port, server, bundles } = await setUp();
    const a = await openStream(port, "token-a");
    const b = await openStream(port, "token-b");
    await expect.poll(() => a.events.length + b.events.length).toBe(2);
    server.refresh(["agents"]); // nothing changed: nothing sent
    bundles.set("uid-a", bundle("a2"));
    server.refresh(["agents"]);
    await expect.poll(() => a.events.length).toBe(2);
    expect(JSON.parse(a.events[1]?.data ?? "{}").revision).toBe(bundles.get("uid-a")?.revision);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(b.events).toHaveLength(1);
  });

  it("refuses requests without a token, with a rejected token, or from elsewhere", async () => {
    const { port } = await setUp();
    const none = await openStream(port, undefined);
    expect(none.status).toBe(401);
    expect(none.response.headers["www-authenticate"]).toContain("Bearer");
    const expired = await openStream(port, "expired");
    expect(expired.status).toBe(401);
    const elsewhere = await openStream(port, "elsewhere");
    expect(elsewhere.status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect([none, expired, elsewhere].every((s) => s.events.length === 0)).toBe(true);
    expect(elsewhere.body).toContain("not from that pod");
  });

  it("records acks for the bound pod and validates their body", async () => {
    const { port, acks } = await setUp();
    expect((await post(port, "/v1/ack", "token-a", JSON.stringify({ revision: "00ff00ff00ff00ff" }))).status).toBe(204);
    expect(acks).toEqual([{ pod: "a", revision: "00ff00ff00ff00ff" }]);
    expect((await post(port, "/v1/ack", "token-a", "{")).status).toBe(400);
    expect((await post(port, "/v1/ack", "token-a", JSON.stringify({ revision: "../etc" }))).status).toBe(400);
    expect((await post(port, "/v1/ack", "expired", JSON.stringify({ revision: "00" }))).status).toBe(401);
    expect(acks).toHaveLength(1);
  });

  it("sends a comment heartbeat on every stream", async () => {
    const { port } = await setUp(30);
    const stream = await openStream(port, "token-a");
    await expect.poll(() => stream.comments, { timeout: 2000 }).toBeGreaterThanOrEqual(2);
  });

  it("counts connected sidecars, sends approvals to the right pod and ends a deleted pod's stream", async () => {
    const { port, server, metrics } = await setUp();
    const a = await openStream(port, "token-a");
    const b = await openStream(port, "token-b");
    await expect.poll(() => server.connections).toBe(2);
    expect(await metrics.registry.getSingleMetricAsString("mcpwarden_operator_connected_sidecars")).toContain("mcpwarden_operator_connected_sidecars 2");
    expect(server.sendApproval("uid-b", { name: "approval-1", verdict: "approved" })).toBe(true);
    await expect.poll(() => b.events.at(-1)?.event).toBe("approval");
    expect(a.events.every((e) => e.event === "bundle")).toBe(true);
    const ended = new Promise((resolve) => a.response.on("end", resolve));
    server.disconnectPod("uid-a");
    await ended;
    await expect.poll(() => server.connections).toBe(1);
  });
});

describe("PolicyStreamServer routes", () => {
  const noEndpoint = { "content-type": "application/json" };

  it("answers 404 JSON for any path but its three: unknown, differently cased, with a trailing slash, or in absolute form", async () => {
    const { port } = await setUp();
    for (const path of ["/nope", "/", "/V1/STREAM", "/v1/stream/", "/v1/ack/x", "/v1/approvals/x", `http://127.0.0.1:${port}/v1/stream`]) {
      const refused = await answer(port, path, { headers: { authorization: "Bearer token-a" } });
      expect([path, refused.status, refused.headers["content-type"], JSON.parse(refused.text)]).toEqual([path, 404, noEndpoint["content-type"], { error: "no such endpoint" }]);
    }
  });

  it("answers 405 JSON (no Allow header) for the wrong method on its paths, HEAD included", async () => {
    const { port } = await setUp();
    for (const [method, path] of [["POST", "/v1/stream"], ["HEAD", "/v1/stream"], ["GET", "/v1/ack"], ["PUT", "/v1/ack"], ["GET", "/v1/approvals"], ["DELETE", "/v1/approvals"]] as const) {
      const refused = await answer(port, path, { method, headers: { authorization: "Bearer token-a" } });
      expect([method, path, refused.status, refused.headers["allow"], refused.headers["content-type"]]).toEqual([method, path, 405, undefined, noEndpoint["content-type"]]);
      if (method !== "HEAD") expect(JSON.parse(refused.text)).toEqual({ error: "no such endpoint" });
    }
  });

  it("answers 500 JSON when a handler fails, and goes on serving", async () => {
    const server = new PolicyStreamServer({
      authenticator: { authenticate: () => Promise.reject(new Error("TokenReview broke")) },
      bundleFor: () => undefined,
      acks: { record: async () => undefined },
      metrics: new OperatorMetrics({ processMetrics: false }),
      logger: silentLogger(),
    });
    const http = createServer((req, res) => server.handle(req, res));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => (server.close(), http.closeAllConnections(), http.close()));
    const port = (http.address() as AddressInfo).port;
    for (let attempt = 0; attempt < 2; attempt++) {
      const failed = await answer(port, "/v1/stream", { headers: { authorization: "Bearer token-a" } });
      expect([failed.status, failed.headers["content-type"], JSON.parse(failed.text)]).toEqual([500, "application/json", { error: "internal error" }]);
    }
  });

  it("ignores the query string", async () => {
    const { port, acks } = await setUp();
    const acked = await answer(port, "/v1/ack?from=test", { method: "POST", headers: { authorization: "Bearer token-a" }, body: JSON.stringify({ revision: "00ff00ff00ff00ff" }) });
    expect(acked.status).toBe(204);
    expect(acks).toEqual([{ pod: "a", revision: "00ff00ff00ff00ff" }]);
  });

  it("never records an ack or files an approval whose body is over its limit (4 KiB, 8 KiB)", async () => {
    const filed: unknown[] = [];
    const { port, acks } = await setUp(60_000, { file: async (_pod, body) => (filed.push(body), { status: 201, body: { name: "x-1", namespace: "agents" } }), eventsFor: () => [] });
    const padded = (value: object, size: number): string => JSON.stringify(value).replace(/}$/, `${" ".repeat(size)}}`);
    const ack = await exchange(port, "/v1/ack", { method: "POST", headers: { authorization: "Bearer token-a" }, body: padded({ revision: "00ff00ff00ff00ff" }, 4096) });
    const approval = await exchange(port, "/v1/approvals", { method: "POST", headers: { authorization: "Bearer token-a" }, body: padded({ tool: "deploy" }, 8192) });
    // The body is refused as it arrives: a 400 naming the limit, or the connection is cut first.
    for (const refused of [ack, approval]) if (!("error" in refused)) expect([refused.status, refused.text]).toEqual([400, expect.stringMatching(/more than (4096|8192) bytes/)]);
    expect([acks, filed]).toEqual([[], []]);
    // Just under the limits, both are taken.
    expect((await answer(port, "/v1/ack", { method: "POST", headers: { authorization: "Bearer token-a" }, body: padded({ revision: "00ff00ff00ff00ff" }, 4000) })).status).toBe(204);
    expect((await answer(port, "/v1/approvals", { method: "POST", headers: { authorization: "Bearer token-a" }, body: padded({ tool: "deploy" }, 8000) })).status).toBe(201);
    expect([acks.length, filed.length]).toEqual([1, 1]);
  });
});
