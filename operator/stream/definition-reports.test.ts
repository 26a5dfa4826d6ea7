// POST /v1/tool-definitions on the policy stream server: authenticated like acks, a
// bounded and checked body, a per-pod rate limit, and the report kept as the pod's
// canonical annotation text.
import { afterEach, describe, expect, it } from "vitest";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { OperatorMetrics } from "../metrics/operator-metrics.ts";
import { silentLogger } from "../operator-logger.ts";
import { definitionAnnotation, readDefinitionAnnotation } from "./definition-reports.ts";
import { PodRateLimit } from "./pod-rate-limit.ts";
import { PolicyStreamServer } from "./policy-stream-server.ts";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function setUp(clock = { now: 0 }) {
  const kept: { pod: string; value: string }[] = [];
  const server = new PolicyStreamServer({
    authenticator: {
      authenticate: async (token) =>
        token === "token-a" ? { ok: true, pod: { namespace: "agents", name: "a", uid: "uid-a", serviceAccount: "default" } } : { ok: false, status: 401, message: "unknown" },
    },
    bundleFor: () => undefined,
    acks: { record: async () => undefined },
    definitions: { record: async (pod, value) => void kept.push({ pod: pod.name, value }) },
    reportLimit: new PodRateLimit({ burst: 2, refillMs: 6_000, now: () => clock.now }),
    metrics: new OperatorMetrics({ processMetrics: false }),
    logger: silentLogger(),
  });
  const http = createServer((req, res) => server.handle(req, res));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => {
    server.close();
    http.closeAllConnections();
    http.close();
  });
  const port = (http.address() as AddressInfo).port;
  const post = (body: string, token = "token-a"): Promise<{ status: number; body: string; retryAfter: string | undefined }> =>
    new Promise((resolve) => {
      const req = request({ host: "127.0.0.1", port, method: "POST", path: "/v1/tool-definitions", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, retryAfter: res.headers["retry-after"] }));
      });
      // A body over the limit may be cut off with the connection: status 0.
      req.on("error", () => resolve({ status: 0, body: "", retryAfter: undefined }));
      req.end(body);
    });
  return { kept, post, clock };
}

describe("POST /v1/tool-definitions", () => {
  it("keeps an authenticated report as canonical annotation text (sorted by tool)", async () => {
    const { kept, post } = await setUp();
    expect((await post(JSON.stringify({ tools: { list_runs: A, get_run: B } }))).status).toBe(204);
    expect(kept).toEqual([{ pod: "a", value: `{"get_run":"${B}","list_runs":"${A}"}` }]);
    expect((await post("{}", "stolen")).status).toBe(401);
    expect(kept).toHaveLength(1);
  });

  it("refuses a malformed report naming what is wrong, and a body over the limit", async () => {
    const { kept, post, clock } = await setUp();
    expect(await post(JSON.stringify({ tools: { list_runs: "sha256:abc" } }))).toMatchObject({ status: 400, body: expect.stringContaining('tools[\\"list_runs\\"] must be sha256: and 64 lowercase hex digits') });
    clock.now += 12_000;
    // Never acted on: refused with 400, or the connection is closed while it is still sending.
    expect([0, 400]).toContain((await post(JSON.stringify({ tools: { ["x".repeat(70_000)]: A } }))).status);
    expect(kept).toEqual([]);
  });

  it("answers 429 with Retry-After beyond a pod's burst, until its bucket refills", async () => {
    const { kept, post, clock } = await setUp();
    const report = JSON.stringify({ tools: { list_runs: A } });
    expect((await post(report)).status).toBe(204);
    expect((await post(report)).status).toBe(204);
    expect(await post(report)).toMatchObject({ status: 429, retryAfter: "6" });
    clock.now += 6_000;
    expect((await post(report)).status).toBe(204);
    expect(kept).toHaveLength(3);
  });
});

describe("the tool definitions annotation", () => {
  it("reads back what was written, and nothing from a hand-edited value that is not a report", () => {
    const tools = new Map([
      ["b", B],
      ["a", A],
    ]);
    expect(readDefinitionAnnotation(definitionAnnotation(tools))).toEqual(new Map([["a", A], ["b", B]]));
    for (const junk of [undefined, "", "{", "[]", `{"a":"sha256:x"}`, `{"":"${A}"}`]) expect(readDefinitionAnnotation(junk)).toBeUndefined();
  });
});
