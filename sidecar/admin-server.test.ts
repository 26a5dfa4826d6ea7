import { afterEach, describe, expect, it } from "vitest";
import { startAdminServer, type AdminServer } from "./admin-server.ts";

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
