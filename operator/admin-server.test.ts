// The operator's admin port as a client sees it: the three paths, their methods, and
// what anything else gets.
import { afterEach, describe, expect, it } from "vitest";
import { answer } from "../test/support/http-exchange.ts";
import { startOperatorAdminServer, type OperatorAdminServer } from "./admin-server.ts";
import { OperatorMetrics } from "./metrics/operator-metrics.ts";
import { silentLogger } from "./operator-logger.ts";

let server: OperatorAdminServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(notReadyReason: () => string | undefined = () => undefined): Promise<{ port: number; metrics: OperatorMetrics }> {
  const metrics = new OperatorMetrics({ processMetrics: false });
  server = await startOperatorAdminServer({ host: "127.0.0.1", port: 0, metrics, notReadyReason, logger: silentLogger() });
  return { port: server.port, metrics };
}

describe("operator admin server", () => {
  it("answers /healthz, /readyz (503 with the reason until ready) and /metrics, query strings ignored", async () => {
    let reason: string | undefined = "2 of 4 caches have not listed yet";
    const { port, metrics } = await start(() => reason);
    expect(await answer(port, "/healthz")).toMatchObject({ status: 200, text: "ok\n", headers: { "content-type": "text/plain" } });
    expect(await answer(port, "/readyz")).toMatchObject({ status: 503, text: "not ready: 2 of 4 caches have not listed yet\n", headers: { "content-type": "text/plain" } });
    reason = undefined;
    expect(await answer(port, "/readyz?verbose")).toMatchObject({ status: 200, text: "ok\n" });
    const scraped = await answer(port, "/metrics");
    expect(scraped).toMatchObject({ status: 200, headers: { "content-type": metrics.registry.contentType } });
    expect(scraped.text).toContain("mcpwarden_operator_connected_sidecars");
  });

  it("answers HEAD like GET without a body", async () => {
    const { port } = await start();
    expect(await answer(port, "/healthz", { method: "HEAD" })).toMatchObject({ status: 200, text: "", headers: { "content-type": "text/plain" } });
  });

  it("refuses other methods with 405 and Allow: GET, HEAD, on any path", async () => {
    const { port } = await start();
    for (const [method, path] of [["POST", "/healthz"], ["PUT", "/metrics"], ["DELETE", "/nope"], ["OPTIONS", "/readyz"]] as const) {
      const refused = await answer(port, path, { method });
      expect([method, path, refused.status, refused.headers["allow"], refused.text]).toEqual([method, path, 405, "GET, HEAD", ""]);
    }
  });

  it("answers 404 for any other path: unknown, differently cased, with a trailing slash, or in absolute form", async () => {
    const { port } = await start();
    for (const path of ["/nope", "/", "/HEALTHZ", "/healthz/", "/metrics/x", `http://127.0.0.1:${port}/healthz`]) {
      expect([path, await answer(port, path)]).toMatchObject([path, { status: 404, text: "not found\n", headers: { "content-type": "text/plain" } }]);
    }
  });
});
