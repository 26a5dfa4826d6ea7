// The sidecar's proxy on a loopback port for tests: a real policy compiled from YAML, the
// memory rate-limit store, a recording DecisionObserver, and a simple IdentityResolver
// (source none: one grant; session: the session id; header: the named header, 401
// without it). The real resolvers are tested where they live. Also what tests of calls
// held for approval share: a desk decided by hand, and what a stdio server received.

import { existsSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { allPolicyEngines } from "../../policy/all-engines.ts";
import { CompileCache, compilePolicies, policiesFromText } from "../../policy/index.ts";
import { SlidingWindowLimiter } from "../../policy/ratelimit/sliding-window.ts";
import type { DecisionObserver, DecisionRecord, IdentityResolver, PolicySnapshot } from "../../sidecar/contracts.ts";
import type { LocalApprovalDesk } from "../../sidecar/approvals/local-approval-desk.ts";
import { createMcpProxy, type McpProxy, type McpProxyOptions } from "../../sidecar/proxy/index.ts";
import { MemoryRateLimitStore } from "../../sidecar/ratelimit/index.ts";

/** The feature server as a stdio command (node runs it): the upstream of stdio bridge tests. */
export const FEATURE_STDIO_SERVER = fileURLToPath(new URL("./mcp-feature-server-stdio.ts", import.meta.url));

/** Every engine, made once for the tests of a file (a new ajv compiles its meta-schema first). */
const TEST_ENGINES = allPolicyEngines();

export function snapshotFromYaml(yaml: string): PolicySnapshot {
  const cache = new CompileCache(TEST_ENGINES);
  const read = policiesFromText(yaml, { name: "policylayer" }, cache);
  if (!read.ok) throw new Error(`policy does not read: ${JSON.stringify(read.problems)}`);
  const compiled = compilePolicies(read.policies, cache);
  if (!compiled.ok) throw new Error(`policy does not compile: ${JSON.stringify(compiled.problems)}`);
  return { table: compiled.table, revision: "test", policies: read.policies.map((policy) => policy.metadata.name) };
}

export const ALLOW_ALL_POLICY = `
apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: allow-all, namespace: test }
spec:
  default: allow
`;

/** Tools held for a person's approval (deploy, progress: 1 min; delete_all: 1 s), the rest allowed. Ends inside `spec`. */
export const APPROVALS_POLICY = `
apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: approvals, namespace: agents }
spec:
  default: allow
  tools:
    deploy: { action: approve, approval: { timeout: 1m } }
    progress: { action: approve, approval: { timeout: 1m } }
    delete_all: { action: approve, approval: { timeout: 1s } }
`;

const testIdentityResolver: IdentityResolver = {
  async resolve(spec, headers, sessionId) {
    if (spec.source === "session") return { ok: true, identity: { id: sessionId } };
    if (spec.source === "header") {
      const value = headers[(spec.header ?? "").toLowerCase()];
      if (typeof value !== "string" || value === "") {
        return { ok: false, wwwAuthenticate: `Header realm="mcp-warden", header="${spec.header ?? ""}"`, message: `the ${spec.header ?? ""} header is required` };
      }
      return { ok: true, identity: { id: value } };
    }
    if (spec.source === "jwt") return { ok: false, wwwAuthenticate: 'Bearer error="invalid_token"', message: "no JWT support in tests" };
    return { ok: true, identity: { id: "" } };
  },
};

/** A session opened by hand at a Streamable HTTP `url` (initialize, then initialized): the headers its requests carry. */
export async function initializeSession(url: string, protocolVersion: string): Promise<Record<string, string>> {
  const post = (body: object, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(url, { method: "POST", headers: { accept: "application/json, text/event-stream", "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const response = await post({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion, capabilities: {}, clientInfo: { name: "t", version: "1" } } });
  await response.text();
  const headers = { "mcp-session-id": response.headers.get("mcp-session-id") ?? "", "mcp-protocol-version": protocolVersion };
  await (await post({ jsonrpc: "2.0", method: "notifications/initialized" }, headers)).text();
  return headers;
}

export interface ProxyUnderTest {
  readonly proxy: McpProxy;
  readonly url: string;
  readonly origin: string;
  readonly decisions: DecisionRecord[];
  /** Replaces the policy in force (undefined: none, the sidecar is not ready). */
  setSnapshot(snapshot: PolicySnapshot | undefined): void;
  close(): Promise<void>;
}

export async function startProxy(
  upstream: McpProxyOptions["upstream"],
  policyYaml: string | undefined = ALLOW_ALL_POLICY,
  extra: Partial<McpProxyOptions> = {},
): Promise<ProxyUnderTest> {
  let snapshot = policyYaml === undefined ? undefined : snapshotFromYaml(policyYaml);
  const decisions: DecisionRecord[] = [];
  const observer: DecisionObserver = { onDecision: (record) => decisions.push(record) };
  const proxy = createMcpProxy({
    upstream,
    snapshot: () => snapshot,
    identity: testIdentityResolver,
    limiter: new SlidingWindowLimiter(new MemoryRateLimitStore()),
    observer,
    ...extra,
  });
  const server: Server = proxy.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    proxy,
    url: `${origin}/mcp`,
    origin,
    decisions,
    setSnapshot(next) {
      snapshot = next;
    },
    async close() {
      await proxy.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves once `condition` holds, looking every 10 ms: tests wait for events, never for time. */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** The name of the pending approval whose arguments name `target`, once it is filed. */
export async function pendingApproval(desk: LocalApprovalDesk, target: string): Promise<string> {
  let name: string | undefined;
  await until(() => (name = desk.list().find((approval) => approval.phase === "Pending" && approval.preview.includes(target))?.name) !== undefined);
  return name as string;
}

/** Decides the pending approval whose arguments name `target`, once it is filed. */
export async function decideWhenFiled(desk: LocalApprovalDesk, target: string, verdict: "approve" | "deny"): Promise<void> {
  desk.decide(await pendingApproval(desk, target), verdict, "bob");
}

/** The messages a stdio test server wrote to its recorder file (MCP_RECORD_FILE), oldest first. */
export function recordedMessages(file: string): unknown[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (JSON.parse(line) as { message: unknown }).message);
}
