// close(): new requests are refused at once, a call in flight finishes within the grace,
// one that outlasts it gets an error instead of a hang.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFeatureHttpServer, type FeatureHttpServer } from "../../test/support/mcp-feature-server.ts";
import { startProxy } from "../../test/support/mcp-proxy-harness.ts";

describe("close()", () => {
  let upstream: FeatureHttpServer;
  beforeAll(async () => {
    upstream = await startFeatureHttpServer();
  });
  afterAll(async () => {
    await upstream.close();
  });

  it("finishes a call in flight, refusing new requests meanwhile", async () => {
    const sidecar = await startProxy({ url: upstream.url }, undefined, { shutdownGraceMs: 5_000 });
    const client = new Client({ name: "agent", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(sidecar.url)));
    const inFlight = client.callTool({ name: "slow", arguments: {} });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const closing = sidecar.proxy.close();
    const refused = await fetch(sidecar.url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" });
    expect(refused.status).toBe(503);
    expect(await inFlight).toEqual({ content: [{ type: "text", text: "finished" }] });
    await closing;
    await client.close().catch(() => undefined);
    await sidecar.close();
  });

  it("ends a call that outlasts the grace with an error", async () => {
    const sidecar = await startProxy({ url: upstream.url }, undefined, { shutdownGraceMs: 300 });
    const client = new Client({ name: "agent", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(sidecar.url)));
    const inFlight = client.callTool({ name: "slow", arguments: {} }).then(
      () => "answered",
      (error: unknown) => String(error),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await sidecar.proxy.close();
    // Had close() waited for the call, the slow tool would have answered.
    expect(await inFlight).toMatch(/closed the connection|-32000/);
    await client.close().catch(() => undefined);
    await sidecar.close();
  });
});
