// Bounded memory (issue 11): with the heap flags the injector sets for the chart's default
// 256Mi limit, a sidecar process relays a 60 MiB JSON reply, a 40 MiB SSE reply and one
// 200 MiB SSE event to the client whole, refuses a tools/list over its inspection cap with
// an error naming the cap, stays alive, keeps serving other clients, and its peak resident
// memory (VmHWM, not a sampled RSS) stays under 256 MiB. A bound, not a timing.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sidecarNodeOptions } from "../../operator/injection/sidecar-node-options.ts";
import { startCanary, startCountingUpstream, type Canary, type CountingUpstream } from "../support/boundary-servers.ts";
import { startSidecarProcess, type SidecarProcess } from "../support/sidecar-process.ts";

const LIMIT_KIB = 256 * 1024;
const POLICY = `apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: memory }
spec:
  default: allow
`;

let canary: Canary;
let upstream: CountingUpstream;
let sidecar: SidecarProcess;
let session: Record<string, string>;

const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };

/** Sends a request and reads the reply as it streams, keeping only its size and its two ends (its first 64 KiB). */
async function exchange(body: object, extra: Record<string, string> = {}): Promise<{ status: number; type: string; bytes: number; head: string; tail: string }> {
  const response = await fetch(sidecar.mcpUrl, { method: "POST", headers: { ...headers, ...session, ...extra }, body: JSON.stringify(body) });
  let bytes = 0;
  let head = "";
  let tail = "";
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    const text = Buffer.from(chunk).toString("latin1");
    if (head.length < 65_536) head += text.slice(0, 65_536 - head.length);
    tail = (tail + text).slice(-200);
  }
  return { status: response.status, type: response.headers.get("content-type") ?? "", bytes, head, tail };
}

const call = (name: string, mib: number, id: number): object => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: { mib } } });

beforeAll(async () => {
  canary = await startCanary();
  upstream = await startCountingUpstream(canary);
  // Exactly what the injector gives a sidecar with a 256Mi memory limit.
  sidecar = await startSidecarProcess({ policy: POLICY, upstream: { url: upstream.url }, nodeFlags: sidecarNodeOptions("256Mi").split(" ") });
  const initialized = await fetch(sidecar.mcpUrl, {
    method: "POST",
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } }),
  });
  await initialized.text();
  session = { "mcp-session-id": initialized.headers.get("mcp-session-id") ?? "", "mcp-protocol-version": "2025-06-18" };
});

afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
  await canary?.close();
});

describe("bounded memory under large replies (real process, the injector's heap flags)", () => {
  it("streams a 60 MiB JSON reply whole", async () => {
    const reply = await exchange(call("big_json", 60, 1));
    expect(reply.status).toBe(200);
    expect(reply.bytes).toBeGreaterThan(60 * 1024 * 1024);
    expect(reply.head).toMatch(/^\{"jsonrpc":"2\.0","id":1,"result":/);
    expect(reply.tail.endsWith('"}]}}')).toBe(true);
  });

  it("streams a 40 MiB SSE reply whole", async () => {
    const reply = await exchange(call("big_sse", 40, 2));
    expect(reply.type).toBe("text/event-stream");
    expect(reply.bytes).toBeGreaterThan(40 * 1024 * 1024);
    expect(reply.tail).toContain('"id":2,"result":{"content":[{"type":"text","text":"done"}]}');
  });

  it("streams one 200 MiB SSE event whole while other clients are served", async () => {
    const big = exchange(call("big_sse_event", 200, 3));
    // Another client, during the stream: answered at once.
    const other = await exchange({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "echo", arguments: { text: "still here" } } });
    expect(other.head).toContain("still here");
    const reply = await big;
    expect(reply.bytes).toBeGreaterThan(200 * 1024 * 1024);
    expect(reply.head).toMatch(/^event: message\ndata: \{"jsonrpc":"2\.0","id":3,"result":/);
    expect(reply.tail.endsWith('"}]}}\n\n')).toBe(true);
  });

  it("refuses a tools/list over its inspection cap with an error naming the cap", async () => {
    const reply = await exchange({ jsonrpc: "2.0", id: 5, method: "tools/list" }, { "x-listing-mib": "12" });
    const body = JSON.parse(reply.head) as { id: number; error: { message: string } };
    expect(body).toMatchObject({ id: 5, error: { code: -32603 } });
    expect(body.error.message).toContain("--max-inspected-reply-bytes");
  });

  it("stays alive, and its peak memory stays under the 256Mi limit", () => {
    expect(sidecar.alive()).toBe(true);
    const peakKib = sidecar.statusKib("VmHWM");
    console.log(`sidecar VmHWM after 60 MiB JSON, 40 MiB SSE, one 200 MiB SSE event, an over-cap listing: ${Math.round(peakKib / 1024)} MiB`);
    expect(peakKib).toBeLessThan(LIMIT_KIB);
    expect(canary.hits()).toBe(0);
  });
});
