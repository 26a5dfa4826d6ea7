// The composition with a stand-in for the MCP proxy: policy → readiness and metrics,
// decisions → metrics and audit lines, close() → drain then release every port.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { PassThrough } from "node:stream";
import { portInUse } from "../test/harness/free-port.ts";
import { createSidecarLogger } from "./observability/sidecar-logger.ts";
import { startSidecarWith, type McpProxyFactory, type RunningSidecar } from "./start-sidecar.ts";

const POLICY = `apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: demo }
spec:
  default: deny
  tools:
    list_runs: {}
`;

/** Answers every request with the policy revision; /slow answers after 300 ms; /decide reports a decision. */
const standInProxy: McpProxyFactory = (parts) => {
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
      inFlight++;
      res.on("close", () => {
        if (--inFlight === 0) drained?.();
      });
      if (req.url === "/decide") {
        parts.observer.onDecision({ tool: "list_runs", decision: { decision: "allow", policy: "demo", rule: 'tools["list_runs"]', reason: "" }, mode: "enforce", callerId: "", argumentDigest: "d".repeat(64) });
      }
      const answer = (): void => void res.end(JSON.stringify({ revision: parts.snapshot()?.revision ?? null }));
      if (req.url === "/slow") setTimeout(answer, 300);
      else answer();
  };
  return {
    handler,
    createServer: () => createServer(handler),
    close: () => new Promise<void>((resolve) => (inFlight === 0 ? resolve() : (drained = resolve))),
  };
};

let dir: string;
let sidecar: RunningSidecar | undefined;
let logText = "";

async function start(policy: string | undefined): Promise<RunningSidecar> {
  dir = mkdtempSync(join(tmpdir(), "mcpwarden-start-"));
  if (policy !== undefined) writeFileSync(join(dir, "policy.yaml"), policy);
  const destination = new PassThrough();
  logText = "";
  destination.on("data", (chunk: Buffer) => (logText += chunk.toString()));
  sidecar = await startSidecarWith(
    {
      listen: { host: "127.0.0.1", port: 0 },
      admin: { host: "127.0.0.1", port: 0 },
      upstream: { url: "http://127.0.0.1:1/mcp" },
      policyPath: dir,
      logger: createSidecarLogger({ destination }),
    },
    standInProxy,
  );
  return sidecar;
}

afterEach(async () => {
  await sidecar?.close();
  sidecar = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const adminUrl = (s: RunningSidecar, path: string): string => `http://127.0.0.1:${s.admin.port}${path}`;
const mcpUrl = (s: RunningSidecar, path: string): string => `http://127.0.0.1:${s.listen.port}${path}`;

describe("startSidecarWith", () => {
  it("is ready with a policy, exports its revision, and counts decisions and writes audit lines", async () => {
    const s = await start(POLICY);
    expect((await fetch(adminUrl(s, "/readyz"))).status).toBe(200);
    const { revision } = (await (await fetch(mcpUrl(s, "/decide"))).json()) as { revision: string };
    expect(revision).toMatch(/^[0-9a-f]{64}$/);
    const metrics = await (await fetch(adminUrl(s, "/metrics"))).text();
    expect(metrics).toContain(`mcpwarden_policy_revision{revision="${revision}"} 1`);
    expect(metrics).toContain('mcpwarden_tool_calls_total{tool="list_runs",decision="allow",policy="demo",mode="enforce"} 1');
    expect(metrics).toContain("process_resident_memory_bytes");
    const audit = logText.split("\n").filter((l) => l.includes('"audit":"decision"'));
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!)).toMatchObject({ tool: "list_runs", decision: "allow", policy: "demo" });
  });

  it("without a valid policy it runs but is not ready, and counts the load error", async () => {
    const s = await start("kind: nonsense");
    const readyz = await fetch(adminUrl(s, "/readyz"));
    expect([readyz.status, await readyz.text()]).toEqual([503, "not ready: no policy loaded (see the logs)\n"]);
    expect(await (await fetch(adminUrl(s, "/metrics"))).text()).toContain("mcpwarden_policy_load_errors_total 1");
    expect(logText).toContain('"msg":"policy not applied"');
  });

  it("close() finishes calls in flight, then frees both ports", async () => {
    const s = await start(POLICY);
    const slow = fetch(mcpUrl(s, "/slow"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = s.close();
    expect((await fetch(adminUrl(s, "/readyz"))).status).toBe(503);
    expect((await slow).status).toBe(200);
    await closing;
    expect(await portInUse(s.listen.port)).toBe(false);
    expect(await portInUse(s.admin.port)).toBe(false);
  });

  it("a port in use is a rejected start that leaves nothing running", async () => {
    const first = await start(POLICY);
    const destination = new PassThrough();
    await expect(
      startSidecarWith(
        { listen: { host: "127.0.0.1", port: 0 }, admin: { host: "127.0.0.1", port: first.admin.port }, upstream: { url: "http://127.0.0.1:1/mcp" }, policyPath: dir, logger: createSidecarLogger({ destination }) },
        standInProxy,
      ),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
