// With an allow-all policy the sidecar is invisible: an enumerated feature script gives
// the same transcript directly and through the sidecar (session ids normalised), for the
// SDK-built feature server and for @modelcontextprotocol/server-everything, over
// Streamable HTTP (SSE and JSON replies), the legacy HTTP+SSE transport, and stdio.

import { fileURLToPath } from "node:url";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFeatureHttpServer, type FeatureHttpServer } from "../../test/support/mcp-feature-server.ts";
import { EVERYTHING_STEPS, FEATURE_SERVER_STEPS, runFeatureScript } from "../../test/support/mcp-feature-script.ts";
import { startProxy, type ProxyUnderTest } from "../../test/support/mcp-proxy-harness.ts";
import { runRawStreamableScript } from "../../test/support/mcp-raw-streamable-script.ts";
import { startEverythingHttp, type EverythingHttp } from "../../test/support/server-everything.ts";

const FEATURE_STDIO = fileURLToPath(new URL("../../test/support/mcp-feature-server-stdio.ts", import.meta.url));
const EVERYTHING_ENTRY = fileURLToPath(new URL("../../node_modules/@modelcontextprotocol/server-everything/dist/index.js", import.meta.url));

describe("transparency against the SDK feature server over HTTP", () => {
  let upstream: FeatureHttpServer;
  let sidecar: ProxyUnderTest;
  beforeAll(async () => {
    upstream = await startFeatureHttpServer();
    sidecar = await startProxy({ url: upstream.url });
  });
  afterAll(async () => {
    await sidecar.close();
    await upstream.close();
  });

  for (const json of [false, true]) {
    it(`Streamable HTTP, ${json ? "JSON" : "SSE"} replies: every feature`, async () => {
      upstream.jsonResponses = json;
      const direct = await runFeatureScript(new StreamableHTTPClientTransport(new URL(upstream.url)), FEATURE_SERVER_STEPS);
      const proxied = await runFeatureScript(new StreamableHTTPClientTransport(new URL(sidecar.url)), FEATURE_SERVER_STEPS);
      expect(proxied).toEqual(direct);
      const failed = direct.filter((entry) => typeof entry.value === "object" && entry.value !== null && "error" in entry.value);
      expect(failed.map((entry) => entry.step)).toEqual(["unknown method error"]);
    });
  }

  it("Streamable HTTP, raw: batches, GET stream, Last-Event-ID, Mcp-Method, DELETE", async () => {
    upstream.jsonResponses = false;
    const direct = await runRawStreamableScript(upstream.url);
    const proxied = await runRawStreamableScript(sidecar.url);
    expect(proxied).toEqual(direct);
    expect(direct.find((entry) => entry.step === "GET with Last-Event-ID replays the stream")?.value).toMatchObject({ status: 200 });
  });

  it("legacy HTTP+SSE: every feature", async () => {
    const direct = await runFeatureScript(new SSEClientTransport(new URL(`http://127.0.0.1:${upstream.port}/sse`)), FEATURE_SERVER_STEPS);
    const proxied = await runFeatureScript(new SSEClientTransport(new URL(`${sidecar.origin}/sse`)), FEATURE_SERVER_STEPS);
    expect(proxied).toEqual(direct);
  });
});

describe("transparency against the SDK feature server over stdio", () => {
  let sidecar: ProxyUnderTest;
  beforeAll(async () => {
    sidecar = await startProxy({ command: process.execPath, args: [FEATURE_STDIO] });
  });
  afterAll(async () => {
    await sidecar.close();
  });

  it("stdio upstream, Streamable HTTP client: every feature", async () => {
    const direct = await runFeatureScript(new StdioClientTransport({ command: process.execPath, args: [FEATURE_STDIO] }), FEATURE_SERVER_STEPS);
    const proxied = await runFeatureScript(new StreamableHTTPClientTransport(new URL(sidecar.url)), FEATURE_SERVER_STEPS);
    expect(proxied).toEqual(direct);
  });

  it("stdio upstream, legacy SSE client: every feature", async () => {
    const direct = await runFeatureScript(new StdioClientTransport({ command: process.execPath, args: [FEATURE_STDIO] }), FEATURE_SERVER_STEPS);
    const proxied = await runFeatureScript(new SSEClientTransport(new URL(`${sidecar.origin}/sse`)), FEATURE_SERVER_STEPS);
    expect(proxied).toEqual(direct);
  });
});

describe("transparency against @modelcontextprotocol/server-everything", () => {
  let everything: EverythingHttp;
  let overHttp: ProxyUnderTest;
  let overStdio: ProxyUnderTest;
  beforeAll(async () => {
    everything = await startEverythingHttp(EVERYTHING_ENTRY);
    overHttp = await startProxy({ url: everything.url });
    overStdio = await startProxy({ command: process.execPath, args: [EVERYTHING_ENTRY, "stdio"] });
  }, 30_000);
  afterAll(async () => {
    await overHttp.close();
    await overStdio.close();
    await everything.stop();
  });

  it("over Streamable HTTP", async () => {
    const direct = await runFeatureScript(new StreamableHTTPClientTransport(new URL(everything.url)), EVERYTHING_STEPS);
    const proxied = await runFeatureScript(new StreamableHTTPClientTransport(new URL(overHttp.url)), EVERYTHING_STEPS);
    expect(proxied).toEqual(direct);
  });

  it("over stdio", async () => {
    const direct = await runFeatureScript(new StdioClientTransport({ command: process.execPath, args: [EVERYTHING_ENTRY, "stdio"] }), EVERYTHING_STEPS);
    const proxied = await runFeatureScript(new StreamableHTTPClientTransport(new URL(overStdio.url)), EVERYTHING_STEPS);
    expect(proxied).toEqual(direct);
  });
});
