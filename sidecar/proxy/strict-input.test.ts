// Every malformed or ambiguous input gets its JSON-RPC error and nothing reaches the
// server; batches, Mcp-Method / Mcp-Name, escaped method names and identity refusals.
// Then a fuzz run (fixed, printed seed) of random and mutated messages: the upstream
// recorder must see no call the policy denies, and the proxy must keep answering.

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluateCall } from "../../policy/index.ts";
import { calledTools, startFeatureHttpServer, type FeatureHttpServer } from "../../test/support/mcp-feature-server.ts";
import { startCanary } from "../../test/support/boundary-servers.ts";
import { initializeSession, snapshotFromYaml, startProxy, type ProxyUnderTest } from "../../test/support/mcp-proxy-harness.ts";
import { rawHttp } from "../../test/support/sidecar-process.ts";

const POLICY = `
apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: strict, namespace: agents }
spec:
  default: deny
  hide: ["debug_*"]
  tools:
    echo: {}
    list_runs: {}
    run_test_iteration:
      arguments: { type: object, properties: { iterations: { type: integer, maximum: 5 } } }
    delete_all: { action: deny, reason: "destructive" }
`;

interface Reply {
  status: number;
  body: unknown;
}

describe("strict input", () => {
  let upstream: FeatureHttpServer;
  let sidecar: ProxyUnderTest;
  let modern: Record<string, string>;
  let batching: Record<string, string>;

  const send = async (body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Reply> => {
    const response = await fetch(sidecar.url, {
      method: "POST",
      headers: { accept: "application/json, text/event-stream", "content-type": "application/json", ...headers },
      body,
    });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get("content-type") ?? "").startsWith("application/json")) parsed = JSON.parse(text);
    else if ((response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      parsed = text
        .split("\n")
        .filter((line) => line.startsWith("data: ") && line.length > 6)
        .map((line) => JSON.parse(line.slice(6)) as unknown);
    }
    return { status: response.status, body: parsed };
  };

  beforeAll(async () => {
    upstream = await startFeatureHttpServer();
    sidecar = await startProxy({ url: upstream.url }, POLICY);
    modern = await initializeSession(sidecar.url, "2025-06-18");
    batching = await initializeSession(sidecar.url, "2025-03-26");
  });
  afterAll(async () => {
    await sidecar.close();
    await upstream.close();
  });

  const refusedWithNothingForwarded = async (body: string | Uint8Array, status: number, code: number, headers: Record<string, string> = modern): Promise<void> => {
    const before = upstream.received.length;
    const reply = await send(body, headers);
    expect(reply.status, typeof body === "string" ? body.slice(0, 120) : "bytes").toBe(status);
    expect((reply.body as { error?: { code?: number } }).error?.code).toBe(code);
    expect(upstream.received.length).toBe(before);
  };

  const call = (name: string, extra = ""): string => `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":${JSON.stringify(name)}${extra},"arguments":{}}}`;

  it("refuses duplicate keys, also escaped or differing only in case", async () => {
    await refusedWithNothingForwarded(call("echo", ',"name":"delete_all"'), 400, -32700);
    await refusedWithNothingForwarded(call("echo", ',"n\\u0061me":"delete_all"'), 400, -32700);
    await refusedWithNothingForwarded(call("echo", ',"Name":"delete_all"'), 400, -32700);
    await refusedWithNothingForwarded('{"jsonrpc":"2.0","id":7,"method":"ping","Method":"tools/call"}', 400, -32700);
    await refusedWithNothingForwarded('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a","Text":"b"}}}', 400, -32700);
  });

  it("refuses requests without an id or with a null id, and non-object params", async () => {
    await refusedWithNothingForwarded('{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo","arguments":{}}}', 400, -32600);
    await refusedWithNothingForwarded('{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"echo","arguments":{}}}', 400, -32600);
    await refusedWithNothingForwarded('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["echo"]}', 400, -32600);
    await refusedWithNothingForwarded('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"echo"}', 400, -32600);
    await refusedWithNothingForwarded('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":[1]}}', 400, -32600);
    await refusedWithNothingForwarded('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}', 400, -32600);
    await refusedWithNothingForwarded('{"jsonrpc":"1.0","id":1,"method":"ping"}', 400, -32600);
  });

  it("refuses a wrong content type, an oversized body, deep nesting, bad UTF-8 and lone surrogates", async () => {
    await refusedWithNothingForwarded(call("echo"), 415, -32600, { ...modern, "content-type": "text/plain" });
    await refusedWithNothingForwarded(call("echo"), 415, -32600, { ...modern, "content-type": "application/json; charset=latin1" });
    await refusedWithNothingForwarded(call("echo"), 415, -32600, { ...modern, "content-encoding": "gzip" });
    const huge = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${"x".repeat(4 * 1024 * 1024)}"}}}`;
    await refusedWithNothingForwarded(huge, 413, -32600);
    const deep = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":${"[".repeat(70)}${"]".repeat(70)}}}}`;
    await refusedWithNothingForwarded(deep, 400, -32700);
    const bytes = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ec'), Buffer.from([0xc3, 0x28]), Buffer.from('ho"}}')]);
    await refusedWithNothingForwarded(bytes, 400, -32700);
    await refusedWithNothingForwarded('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo\\ud800","arguments":{}}}', 400, -32700);
    await refusedWithNothingForwarded("not json", 400, -32700);
    await refusedWithNothingForwarded("[]", 400, -32600);
  });

  it("never forwards a body on a method other than POST", async () => {
    const before = upstream.received.length;
    for (const method of ["PUT", "PATCH"]) {
      const response = await fetch(sidecar.url, { method, headers: { "content-type": "application/json", ...modern }, body: call("delete_all") });
      expect(response.status).toBe(405);
    }
    expect(upstream.received.length).toBe(before);
  });

  it("decides method names after unescaping", async () => {
    const before = calledTools(upstream.received).length;
    const reply = await send('{"jsonrpc":"2.0","id":9,"method":"t\\u006fols/call","params":{"n\\u0061me":"delete_\\u0061ll","arguments":{}}}', modern);
    expect(reply.status).toBe(200);
    expect(JSON.stringify(reply.body)).toContain('"decision":"deny"');
    expect(calledTools(upstream.received).length).toBe(before);
  });

  it("accepts batches only on sessions that negotiated 2025-03-26, deciding each element alone", async () => {
    const batch = JSON.stringify([
      { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text: "one" } } },
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "delete_all", arguments: {} } },
      { jsonrpc: "2.0", id: 3, method: "ping" },
      { jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "debug_dump", arguments: {} } },
    ]);
    await refusedWithNothingForwarded(batch, 400, -32600, modern);
    await refusedWithNothingForwarded(batch, 400, -32600, {});
    const reply = await send(batch, batching);
    expect(reply.status).toBe(200);
    const replies = reply.body as { id: number; result?: { isError?: boolean; _meta?: Record<string, { decision: string }> } }[];
    expect(replies.map((entry) => entry.id).sort()).toEqual([1, 2, 3, 4]);
    expect(replies.find((entry) => entry.id === 1)?.result?.isError).toBeUndefined();
    expect(replies.find((entry) => entry.id === 2)?.result?._meta?.["mcpwarden.dev/decision"]?.decision).toBe("deny");
    expect(replies.find((entry) => entry.id === 4)?.result?._meta?.["mcpwarden.dev/decision"]?.decision).toBe("deny");
    expect(calledTools(upstream.received)).not.toContain("delete_all");
    expect(calledTools(upstream.received)).not.toContain("debug_dump");
  });

  it("answers a batch the sidecar refuses entirely in request order, forwarding nothing", async () => {
    const before = upstream.received.length;
    const reply = await send(
      JSON.stringify([
        { jsonrpc: "2.0", id: "b", method: "tools/call", params: { name: "delete_all", arguments: {} } },
        { jsonrpc: "2.0", id: "a", method: "tools/call", params: { name: "nope", arguments: {} } },
      ]),
      batching,
    );
    expect((reply.body as { id: string }[]).map((entry) => entry.id)).toEqual(["b", "a"]);
    expect(upstream.received.length).toBe(before);
  });

  it("refuses Mcp-Method / Mcp-Name headers that disagree with the body (-32020)", async () => {
    await refusedWithNothingForwarded(call("delete_all"), 400, -32020, { ...modern, "mcp-method": "tools/list" });
    await refusedWithNothingForwarded(call("delete_all"), 400, -32020, { ...modern, "mcp-method": "tools/call", "mcp-name": "echo" });
    await refusedWithNothingForwarded(call("echo"), 400, -32020, { ...modern, "mcp-name": "=?base64?ZGVsZXRlX2FsbA==?=" });
    const good = await send(call("echo"), { ...modern, "mcp-method": "tools/call", "mcp-name": `=?base64?${Buffer.from("echo").toString("base64")}?=` });
    expect(good.status).toBe(200);
  });

  it("refuses a caller the identity spec cannot establish with 401 and WWW-Authenticate", async () => {
    sidecar.setSnapshot(snapshotFromYaml(POLICY.replace("default: deny", "default: deny\n  identity: { source: header, header: x-agent-id }")));
    try {
      const before = upstream.received.length;
      const response = await fetch(sidecar.url, { method: "POST", headers: { accept: "application/json, text/event-stream", "content-type": "application/json", ...modern }, body: call("echo") });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain("x-agent-id");
      expect(upstream.received.length).toBe(before);
      const allowed = await send(call("echo"), { ...modern, "x-agent-id": "agent-1" });
      expect(allowed.status).toBe(200);
      expect(sidecar.decisions.at(-1)?.callerId).toBe("agent-1");
    } finally {
      sidecar.setSnapshot(snapshotFromYaml(POLICY));
    }
  });

  it("refuses a call that differs from a listed tool only in case", async () => {
    await send('{"jsonrpc":"2.0","id":1,"method":"tools/list"}', modern);
    const reply = await send(call("Echo"), modern);
    expect(JSON.stringify(reply.body)).toContain("only in case");
  });

  it("fuzz: random and mutated messages never get a denied call through", async () => {
    const seed = 20261122;
    console.log(`strict-input fuzz seed ${seed}`);
    const table = snapshotFromYaml(POLICY).table;
    const tools = ["echo", "list_runs", "run_test_iteration", "delete_all", "debug_dump", "Delete_All", "ECHO", "delete_All", "deploy", "echo\u0000", "ech", "ec\u0068o"];
    const escapeSome = (text: string, mask: number): string =>
      [...text].map((char, index) => ((mask >> index % 30) & 1 ? `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}` : char)).join("");
    const message = fc.record({
      id: fc.oneof(fc.integer({ min: 1, max: 1e6 }), fc.string({ maxLength: 5 })),
      method: fc.constantFrom("tools/call", "tools/call", "tools/call", "tools/list", "ping", "resources/list", "Tools/call", "tools/call "),
      tool: fc.constantFrom(...tools),
      iterations: fc.integer({ min: -2, max: 9 }),
      mask: fc.nat(),
      mutation: fc.constantFrom("none", "none", "escape", "duplicate-name", "case-key", "no-id", "null-id", "truncate", "array-params", "deep", "garbage"),
      extra: fc.string({ maxLength: 8 }),
    });
    const render = (m: { id: number | string; method: string; tool: string; iterations: number; mask: number; mutation: string; extra: string }): string => {
      const method = m.mutation === "escape" ? escapeSome(m.method, m.mask) : m.method;
      const name = m.mutation === "escape" ? escapeSome(JSON.stringify(m.tool).slice(1, -1), m.mask >> 3) : JSON.stringify(m.tool).slice(1, -1);
      const id = m.mutation === "no-id" ? "" : m.mutation === "null-id" ? '"id":null,' : `"id":${JSON.stringify(m.id)},`;
      const dup = m.mutation === "duplicate-name" ? `,"name":"delete_all"` : m.mutation === "case-key" ? `,"NAME":"delete_all"` : "";
      const params = m.mutation === "array-params" ? `["${name}"]` : `{"name":"${name}"${dup},"arguments":{"iterations":${m.iterations}${m.mutation === "deep" ? `,"d":${"[".repeat(80)}${"]".repeat(80)}` : ""}}}`;
      const text = `{"jsonrpc":"2.0",${id}"method":"${method}","params":${params}}`;
      if (m.mutation === "truncate") return text.slice(0, m.mask % text.length);
      if (m.mutation === "garbage") return m.extra + text;
      return text;
    };
    const batchOf = fc.array(message, { minLength: 1, maxLength: 5 });
    const samples = fc.sample(fc.oneof(message.map((m) => ({ single: m })), batchOf.map((batch) => ({ batch }))), { seed, numRuns: 5_000 });
    const statuses = new Map<number, number>();
    for (let start = 0; start < samples.length; start += 25) {
      const chunk = samples.slice(start, start + 25);
      const replies = await Promise.all(
        chunk.map((sample) => {
          const body = "single" in sample ? render(sample.single) : `[${sample.batch.map(render).join(",")}]`;
          return send(body, "single" in sample ? modern : batching);
        }),
      );
      for (const reply of replies) statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
    }
    console.log(`strict-input fuzz: ${samples.length} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(statuses.get(500) ?? 0).toBe(0);
    const arrived = upstream.received.filter((entry) => (entry as { method?: string }).method === "tools/call") as unknown as { params: { name: string; arguments?: unknown } }[];
    const denied = arrived.filter(
      (entry) => evaluateCall(table, { tool: entry.params.name, arguments: entry.params.arguments, identity: { id: "" }, session: { id: "" } }, 0).decision.decision !== "allow",
    );
    expect(denied).toEqual([]);
    expect(arrived.length).toBeGreaterThan(100);
    // Still serving.
    expect((await send(call("echo"), modern)).status).toBe(200);
  }, 120_000);

  it("fuzz: mutated request lines and paths never reach another host, nor a denied call the server", async () => {
    const seed = 20261207;
    console.log(`strict-input request-line fuzz seed ${seed}`);
    const canary = await startCanary();
    try {
      const port = Number(new URL(sidecar.origin).port);
      const table = snapshotFromYaml(POLICY).table;
      const host = `127.0.0.1:${canary.port}`;
      const pieces = ["/mcp", "/", "//", "..", ".", "%2e", "%2E%2e", "%2f", "%5c", "\\", host, `//${host}`, "http://x", `http://${host}`, "%00", "?", "#", "@", ";", ":", "sse", "messages", "%252e", "..;", " ", "\t", "mcp", "api", "%", "%zz"];
      const line = fc.record({
        method: fc.constantFrom("GET", "POST", "POST", "DELETE", "OPTIONS", "HEAD", "PUT", "CONNECT", "TRACE", "post", "GET /mcp HTTP/1.1\r\nX:"),
        parts: fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 7 }),
        version: fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/1.1", "HTTP/2", ""),
        body: fc.constantFrom(call("echo"), call("delete_all"), call("debug_dump"), ""),
      });
      const samples = fc.sample(line, { seed, numRuns: 1_200 });
      const statuses = new Map<number, number>();
      for (let start = 0; start < samples.length; start += 30) {
        const replies = await Promise.all(
          samples.slice(start, start + 30).map((sample) => {
            const target = sample.parts.join("");
            const request = `${sample.method} ${target} ${sample.version}\r\nHost: sidecar\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: ${modern["mcp-session-id"]}\r\nMcp-Protocol-Version: 2025-06-18\r\nContent-Length: ${Buffer.byteLength(sample.body)}\r\nConnection: close\r\n\r\n${sample.body}`;
            return rawHttp(port, request, 2_000);
          }),
        );
        for (const reply of replies) statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      }
      console.log(`strict-input request-line fuzz: ${samples.length} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
      expect(canary.hits()).toBe(0);
      expect(statuses.get(500) ?? 0).toBe(0);
      const arrived = upstream.received.filter((entry) => (entry as { method?: string }).method === "tools/call") as unknown as { params: { name: string; arguments?: unknown } }[];
      const denied = arrived.filter(
        (entry) => evaluateCall(table, { tool: entry.params.name, arguments: entry.params.arguments, identity: { id: "" }, session: { id: "" } }, 0).decision.decision !== "allow",
      );
      expect(denied).toEqual([]);
      expect((await send(call("echo"), modern)).status).toBe(200);
    } finally {
      await canary.close();
    }
  }, 120_000);
});
