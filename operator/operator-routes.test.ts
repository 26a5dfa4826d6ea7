// The operator's HTTPS ports as a client sees them (served over plain HTTP here: TLS is
// tls-server.ts's part): which handler answers which path and method, on one port or two.
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { answer, exchange } from "../test/support/http-exchange.ts";
import { createApprovalWebhookHandlers } from "./approvals/index.ts";
import { createInjectionHandler, defaultInjectionConfig } from "./injection/index.ts";
import { OperatorMetrics } from "./metrics/operator-metrics.ts";
import { silentLogger } from "./operator-logger.ts";
import type { RequestHandler } from "./http-app.ts";
import { webhookAndStreamRoutes, webhookRoutes } from "./operator-routes.ts";
import { PolicyStreamServer } from "./stream/policy-stream-server.ts";

const servers: Server[] = [];
const streams: PolicyStreamServer[] = [];
afterEach(() => {
  for (const stream of streams.splice(0)) stream.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function serve(handler: RequestHandler): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

function webhooks(): RequestHandler {
  const config = defaultInjectionConfig({ image: "mcp-warden:test", controlPlaneUrl: "https://mcp-warden.system.svc:9444", caPem: "-----BEGIN CERTIFICATE-----\n" });
  const metrics = new OperatorMetrics({ processMetrics: false });
  const approvals = createApprovalWebhookHandlers(() => "default", silentLogger());
  return webhookRoutes({ inject: createInjectionHandler(config, metrics, silentLogger()), mutateApproval: approvals.mutate, validateApproval: approvals.validate }, silentLogger());
}

function stream(): RequestHandler {
  const server = new PolicyStreamServer({
    authenticator: { authenticate: async () => ({ ok: false, status: 401, message: "no" }) },
    bundleFor: () => undefined,
    acks: { record: async () => undefined },
    metrics: new OperatorMetrics({ processMetrics: false }),
    logger: silentLogger(),
  });
  streams.push(server);
  return (request, response) => server.handle(request, response);
}

const review = (kind: string): string => JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "u1", kind: { kind }, operation: "CREATE", object: {} } });

describe("the webhook port", () => {
  it("sends AdmissionReviews for Pods to the injector and for McpApprovals to the approval webhooks, query strings ignored", async () => {
    const port = await serve(webhooks());
    const notJson = { method: "POST", body: "{", headers: { "content-type": "application/json" } };
    for (const path of ["/v1/inject", "/v1/inject?timeout=10s", "/v1/approvals/mutate", "/v1/approvals/validate"]) {
      const refused = await answer(port, path, notJson);
      expect([path, refused.status, JSON.parse(refused.text)]).toEqual([path, 400, { error: expect.stringContaining("not JSON") }]);
    }
    const injected = await answer(port, "/v1/inject", { method: "POST", body: review("Pod") });
    expect(injected.status).toBe(200);
    expect(JSON.parse(injected.text)).toMatchObject({ kind: "AdmissionReview", response: { uid: "u1" } });
  });

  it("refuses other methods with 405 and Allow: POST, HEAD and OPTIONS included", async () => {
    const port = await serve(webhooks());
    for (const [method, path] of [["GET", "/v1/inject"], ["HEAD", "/v1/inject"], ["OPTIONS", "/v1/inject"], ["PUT", "/v1/approvals/mutate"], ["GET", "/v1/approvals/validate"]] as const) {
      const refused = await answer(port, path, { method });
      expect([method, path, refused.status, refused.headers["allow"], refused.text]).toEqual([method, path, 405, "POST", ""]);
    }
  });

  it("answers 404 text for any other path, the stream's included", async () => {
    const port = await serve(webhooks());
    for (const path of ["/nope", "/v1/stream", "/v1/approvals", "/v1/inject/", "/V1/INJECT", "/v1/injected", `http://127.0.0.1:${port}/v1/inject`]) {
      expect([path, await answer(port, path, { method: "POST" })]).toMatchObject([path, { status: 404, text: "not found\n", headers: { "content-type": "text/plain" } }]);
    }
  });

  it("never answers an AdmissionReview over its limit (256 KiB for McpApprovals)", async () => {
    const port = await serve(webhooks());
    const oversized = review("McpApproval").replace(/}$/, `${" ".repeat(256 * 1024)}}`);
    const refused = await exchange(port, "/v1/approvals/validate", { method: "POST", body: oversized });
    // Refused as it arrives: a 400 naming the limit, or the connection is cut first.
    if (!("error" in refused)) expect([refused.status, refused.text]).toEqual([400, expect.stringContaining(`larger than ${256 * 1024} bytes`)]);
  });
});

describe("one port for the webhooks and the stream", () => {
  it("sends the webhooks' paths (and anything under /v1/inject) to them and the rest to the stream", async () => {
    const port = await serve(webhookAndStreamRoutes(webhooks(), stream()));
    expect(await answer(port, "/v1/inject", { method: "POST", body: review("Pod") })).toMatchObject({ status: 200 });
    expect(await answer(port, "/v1/approvals/mutate")).toMatchObject({ status: 405, headers: { allow: "POST" } });
    expect(await answer(port, "/v1/injected")).toMatchObject({ status: 404, text: "not found\n", headers: { "content-type": "text/plain" } });
    expect(await answer(port, "/v1/stream")).toMatchObject({ status: 401, headers: { "www-authenticate": 'Bearer realm="mcp-warden"' } });
    expect(await answer(port, "/v1/approvals", { method: "POST" })).toMatchObject({ status: 501 });
    const unknown = await answer(port, "/nope");
    expect([unknown.status, unknown.headers["content-type"], JSON.parse(unknown.text)]).toEqual([404, "application/json", { error: "no such endpoint" }]);
  });
});
