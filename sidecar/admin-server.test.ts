import { afterEach, describe, expect, it } from "vitest";
import { answer, exchange } from "../test/support/http-exchange.ts";
import { startAdminServer, type AdminServer } from "./admin-server.ts";
import { LocalApprovalDesk } from "./approvals/local-approval-desk.ts";

let server: AdminServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("admin server", () => {
  it("serves /healthz, /readyz (503 until ready) and /metrics on its own port", async () => {
    let reason: string | undefined = "no policy loaded yet";
    server = await startAdminServer({ host: "127.0.0.1", port: 0, metrics: async () => "mcpwarden_x 1\n", notReadyReason: () => reason });
    const base = `http://127.0.0.1:${server.address.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect([notReady.status, await notReady.text()]).toEqual([503, "not ready: no policy loaded yet\n"]);
    reason = undefined;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    expect(await metrics.text()).toBe("mcpwarden_x 1\n");
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: "POST" })).status).toBe(405);
  });

  it("a failing metrics collector is a 500, not a crash", async () => {
    server = await startAdminServer({ host: "127.0.0.1", port: 0, metrics: () => Promise.reject(new Error("collector broke")), notReadyReason: () => undefined });
    const res = await fetch(`http://127.0.0.1:${server.address.port}/metrics`);
    expect([res.status, await res.text()]).toEqual([500, "metrics failed: collector broke\n"]);
  });

  it("a port in use is a rejected start", async () => {
    server = await startAdminServer({ host: "127.0.0.1", port: 0, metrics: async () => "", notReadyReason: () => undefined });
    await expect(startAdminServer({ host: "127.0.0.1", port: server.address.port, metrics: async () => "", notReadyReason: () => undefined })).rejects.toThrow(/EADDRINUSE/);
  });
});

describe("admin server routes", () => {
  it("answers HEAD like GET without a body; other methods get 405 with Allow: GET, HEAD", async () => {
    server = await startAdminServer({ host: "127.0.0.1", port: 0, metrics: async () => "", notReadyReason: () => undefined });
    const port = server.address.port;
    expect(await answer(port, "/healthz", { method: "HEAD" })).toMatchObject({ status: 200, text: "" });
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS"]) {
      expect(await answer(port, "/healthz", { method })).toMatchObject({ status: 405, text: "method not allowed\n", headers: { allow: "GET, HEAD" } });
    }
  });

  it("answers 404 for any other path: unknown, differently cased, with a trailing slash, or in absolute form", async () => {
    server = await startAdminServer({ host: "127.0.0.1", port: 0, metrics: async () => "", notReadyReason: () => undefined });
    const port = server.address.port;
    for (const path of ["/", "/HEALTHZ", "/healthz/", "/metrics/x", `http://127.0.0.1:${port}/healthz`]) {
      expect([path, await answer(port, path)]).toMatchObject([path, { status: 404, text: "not found: try /metrics, /healthz or /readyz\n" }]);
    }
  });
});

describe("admin server approvals API", () => {
  const ask = { policy: "team/deploys", rule: 'tools["deploy"]', tool: "deploy", argumentDigest: "d".repeat(64), preview: "{}", callerId: "alice", requestedAtMs: Date.now(), expiresAtMs: Date.now() + 600_000 };

  async function withDesk(): Promise<{ port: number; desk: LocalApprovalDesk; name: string }> {
    const desk = new LocalApprovalDesk();
    server = await startAdminServer({ host: "127.0.0.1", port: 0, metrics: async () => "", notReadyReason: () => undefined, approvals: { desk, token: undefined } });
    const name = await desk.file(ask);
    return { port: server.address.port, desk, name };
  }

  it("without local approvals, every path under /v1/approvals says where approvals are decided", async () => {
    server = await startAdminServer({ host: "127.0.0.1", port: 0, metrics: async () => "", notReadyReason: () => undefined });
    for (const path of ["/v1/approvals", "/v1/approvals/x/approve"]) {
      const refused = await answer(server.address.port, path, { method: "POST" });
      expect([refused.status, JSON.parse(refused.text).error]).toEqual([404, expect.stringContaining("McpApproval objects")]);
    }
  });

  it("lists and shows with GET only, decides with POST only (405 naming the method), and 404s anything else", async () => {
    const { port, name } = await withDesk();
    expect(JSON.parse((await answer(port, "/v1/approvals")).text).items).toHaveLength(1);
    expect(JSON.parse((await answer(port, `/v1/approvals/${name}`)).text)).toMatchObject({ name, phase: "Pending" });
    for (const [method, path, allow] of [["POST", "/v1/approvals", "GET"], ["DELETE", `/v1/approvals/${name}`, "GET"], ["GET", `/v1/approvals/${name}/approve`, "POST"]] as const) {
      const refused = await answer(port, path, { method });
      expect([method, path, refused.status, refused.headers["allow"], JSON.parse(refused.text)]).toEqual([method, path, 405, allow, { error: "method not allowed" }]);
    }
    for (const path of [`/v1/approvals/${name}/frobnicate`, `/v1/approvals/${name}/approve/now`]) {
      expect([path, (await answer(port, path, { method: "POST" })).status]).toEqual([path, 404]);
    }
    expect(await answer(port, "/v1/approvals/nobody")).toMatchObject({ status: 404, text: '{"error":"no approval named nobody"}\n' });
  });

  it("never decides on a body over 16 KiB, nor with a reason over 1024 characters", async () => {
    const { port, desk, name } = await withDesk();
    const oversized = await exchange(port, `/v1/approvals/${name}/approve`, { method: "POST", body: `{"reason": "ok"}${" ".repeat(16 * 1024)}` });
    // Refused as it arrives: a 400 naming the limit, or the connection is cut first.
    if (!("error" in oversized)) expect([oversized.status, JSON.parse(oversized.text)]).toEqual([400, { error: "the body is larger than 16384 bytes" }]);
    const longReason = await answer(port, `/v1/approvals/${name}/approve`, { method: "POST", body: JSON.stringify({ reason: "x".repeat(1025) }) });
    expect(longReason.status).toBe(400);
    expect(desk.get(name)?.phase).toBe("Pending");
    expect((await answer(port, `/v1/approvals/${name}/approve`, { method: "POST", body: JSON.stringify({ reason: "x".repeat(1024) }) })).status).toBe(200);
    expect(desk.get(name)?.phase).toBe("Approved");
  });
});
