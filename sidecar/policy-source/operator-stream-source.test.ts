// The sidecar's end of the policy stream against a real HTTPS server playing the
// operator: the protocol of ARCHITECTURE.md, token re-reading, acks, the state
// directory, reconnects, and what is not trusted.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPolicyBundle, compilePolicies, readMcpPolicy, type McpPolicy } from "../../policy/index.ts";
import { operatorTlsCertificates } from "../../test/support/operator-tls-certificates.ts";
import type { PolicySnapshot } from "../contracts.ts";
import { OperatorStreamSource, STATE_FILE } from "./operator-stream-source.ts";
import { testCache } from "../../test/support/policy-engines.ts";

let serverCert: { certPem: string; keyPem: string };
let caPem: string;
let otherCaPem: string;

beforeAll(async () => {
  ({ server: serverCert, caPem, otherCaPem } = await operatorTlsCertificates());
});

function policy(generation: number, tools: Record<string, unknown>): McpPolicy {
  const result = readMcpPolicy({
    apiVersion: "mcpwarden.dev/v1alpha1",
    kind: "McpPolicy",
    metadata: { name: "p", namespace: "agents", generation, uid: "u", creationTimestamp: "2026-01-01T00:00:00Z" },
    spec: { selector: {}, default: "deny", tools },
  }, testCache());
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.policy;
}

function bundleJson(revision: string, policies: McpPolicy[]): string {
  const compiled = compilePolicies(policies, testCache());
  if (!compiled.ok) throw new Error("does not compile");
  return JSON.stringify(createPolicyBundle(revision, compiled.table));
}

interface FakeOperator {
  url: string;
  server: Server;
  streams: ServerResponse[];
  tokens: string[];
  acks: { token: string; revision: string }[];
  /** What a new stream gets first. */
  current: string;
  send(event: string, data: string): void;
  dropStreams(): void;
  refuse: number | undefined;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fakeOperator(initial: string): Promise<FakeOperator> {
  const operator: FakeOperator = {
    url: "",
    server: undefined as unknown as Server,
    streams: [],
    tokens: [],
    acks: [],
    current: initial,
    refuse: undefined,
    send(event, data) {
      for (const stream of this.streams) stream.write(`event: ${event}\ndata: ${data}\n\n`);
    },
    dropStreams() {
      for (const stream of this.streams.splice(0)) stream.destroy();
    },
  };
  const server = createServer({ cert: serverCert.certPem, key: serverCert.keyPem }, (request: IncomingMessage, response: ServerResponse) => {
    const token = (request.headers.authorization ?? "").replace(/^Bearer /, "");
    if (request.url === "/v1/stream") {
      operator.tokens.push(token);
      if (operator.refuse !== undefined) {
        response.writeHead(operator.refuse, { "content-type": "application/json" }).end(JSON.stringify({ error: "no" }));
        return;
      }
      response.writeHead(200, { "content-type": "text/event-stream" });
      // Split a frame across writes, with CRLF line ends: the parser must not care.
      response.write(": hello\r\n\r\nevent: bun");
      response.write(`dle\r\ndata: ${operator.current}\r\n\r\n`);
      operator.streams.push(response);
    } else if (request.url === "/v1/ack" && request.method === "POST") {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        operator.acks.push({ token, revision: (JSON.parse(body) as { revision: string }).revision });
        response.writeHead(204).end();
      });
    } else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  operator.server = server;
  operator.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return operator;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "stream-source-"));
}

function collect(): { snapshots: PolicySnapshot[]; errors: string[]; listener: { onSnapshot(s: PolicySnapshot): void; onLoadError(m: string): void } } {
  const snapshots: PolicySnapshot[] = [];
  const errors: string[] = [];
  return { snapshots, errors, listener: { onSnapshot: (s) => void snapshots.push(s), onLoadError: (m) => void errors.push(m) } };
}

async function started(options: ConstructorParameters<typeof OperatorStreamSource>[0], listener: ReturnType<typeof collect>["listener"]): Promise<OperatorStreamSource> {
  const source = new OperatorStreamSource({ minBackoffMs: 20, maxBackoffMs: 100, ...options });
  cleanups.push(() => source.stop());
  await source.start(listener);
  return source;
}

describe("OperatorStreamSource", () => {
  it("applies the bundle, keeps it in the state directory, then acknowledges it", async () => {
    const operator = await fakeOperator(bundleJson("0000000000000001", [policy(1, { list_runs: {} })]));
    const dir = tempDir();
    writeFileSync(join(dir, "token"), "token-1\n");
    const { snapshots, errors, listener } = collect();
    const connected: boolean[] = [];
    await started({ url: operator.url, tokenFile: join(dir, "token"), caPem, stateDir: join(dir, "state"), onConnectionChange: (c) => void connected.push(c) }, listener);
    await expect.poll(() => operator.acks).toEqual([{ token: "token-1", revision: "0000000000000001" }]);
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]).toMatchObject({ revision: "0000000000000001", policies: ["agents/p"] });
    expect(snapshots[0]?.table.enforcing).toHaveLength(1);
    expect(errors).toEqual([]);
    expect(connected).toEqual([true]);
    expect(JSON.parse(readFileSync(join(dir, "state", STATE_FILE), "utf8")).revision).toBe("0000000000000001");
  });

  it("applies pushed bundles and ignores an approval it has no use for", async () => {
    const operator = await fakeOperator(bundleJson("0000000000000001", [policy(1, {})]));
    const dir = tempDir();
    writeFileSync(join(dir, "token"), "t");
    const { snapshots, listener } = collect();
    const approvals: unknown[] = [];
    const source = await started({ url: `${operator.url}/`, tokenFile: join(dir, "token"), caPem, onApproval: (a) => void approvals.push(a) }, listener);
    await expect.poll(() => snapshots.length).toBe(1);
    operator.send("approval", JSON.stringify({ name: "a-1", verdict: "approved" }));
    operator.send("bundle", bundleJson("0000000000000002", [policy(2, { run: {} })]));
    await expect.poll(() => source.revision).toBe("0000000000000002");
    expect(approvals).toEqual([{ name: "a-1", verdict: "approved" }]);
    await expect.poll(() => operator.acks.map((a) => a.revision)).toEqual(["0000000000000001", "0000000000000002"]);
  });

  it("keeps the last good bundle when a pushed one does not compile, and does not acknowledge it", async () => {
    const operator = await fakeOperator(bundleJson("0000000000000001", [policy(1, {})]));
    const dir = tempDir();
    writeFileSync(join(dir, "token"), "t");
    const { snapshots, errors, listener } = collect();
    const source = await started({ url: operator.url, tokenFile: join(dir, "token"), caPem }, listener);
    await expect.poll(() => operator.acks.length).toBe(1);
    const broken = JSON.parse(bundleJson("0000000000000002", [policy(2, {})])) as { table: { policies: { spec: { tools: unknown } }[] } };
    broken.table.policies[0]!.spec.tools = { run: { when: "args.x ==" } };
    operator.send("bundle", JSON.stringify(broken));
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toContain("does not compile");
    expect(source.revision).toBe("0000000000000001");
    expect(snapshots).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(operator.acks).toHaveLength(1);
  });

  it("reconnects after the stream drops, reading the token file again", async () => {
    const operator = await fakeOperator(bundleJson("0000000000000001", [policy(1, {})]));
    const dir = tempDir();
    writeFileSync(join(dir, "token"), "first");
    const { listener } = collect();
    const connected: boolean[] = [];
    await started({ url: operator.url, tokenFile: join(dir, "token"), caPem, onConnectionChange: (c) => void connected.push(c) }, listener);
    await expect.poll(() => operator.streams.length).toBe(1);
    writeFileSync(join(dir, "token"), "rotated"); // the kubelet rotates projected tokens
    operator.current = bundleJson("0000000000000002", [policy(2, {})]);
    operator.dropStreams();
    await expect.poll(() => operator.tokens).toEqual(["first", "rotated"]);
    await expect.poll(() => operator.acks.at(-1)).toEqual({ token: "rotated", revision: "0000000000000002" });
    expect(connected).toEqual([true, false, true]);
  });

  it("keeps retrying while refused, and treats a silent stream as dead", async () => {
    const operator = await fakeOperator(bundleJson("0000000000000001", [policy(1, {})]));
    operator.refuse = 403;
    const dir = tempDir();
    writeFileSync(join(dir, "token"), "t");
    const { snapshots, listener } = collect();
    await started({ url: operator.url, tokenFile: join(dir, "token"), caPem, idleTimeoutMs: 300 }, listener);
    await expect.poll(() => operator.tokens.length).toBeGreaterThanOrEqual(3);
    expect(snapshots).toEqual([]);
    operator.refuse = undefined;
    await expect.poll(() => snapshots.length).toBe(1);
    const before = operator.tokens.length;
    // No heartbeat from the fake: after the idle timeout the source reconnects by itself.
    await expect.poll(() => operator.tokens.length, { timeout: 3000 }).toBeGreaterThan(before);
  });

  it("starts from the state directory before any connection, and trusts no other CA", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "token"), "t");
    const first = await fakeOperator(bundleJson("00000000000000aa", [policy(7, { kept: {} })]));
    const one = collect();
    const source = await started({ url: first.url, tokenFile: join(dir, "token"), caPem, stateDir: dir }, one.listener);
    await expect.poll(() => existsSync(join(dir, STATE_FILE))).toBe(true);
    await source.stop();

    // Restarted, and the operator is someone we must not trust: the kept bundle applies anyway.
    const impostor = await fakeOperator(bundleJson("00000000000000bb", []));
    const two = collect();
    await started({ url: impostor.url, tokenFile: join(dir, "token"), caPem: otherCaPem, stateDir: dir }, two.listener);
    expect(two.snapshots.map((s) => s.revision)).toEqual(["00000000000000aa"]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(impostor.tokens).toEqual([]); // TLS failed before any request: the token never left
    expect(two.snapshots).toHaveLength(1);
  });
});
