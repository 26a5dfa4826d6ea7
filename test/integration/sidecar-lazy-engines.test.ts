// The sidecar loads CEL and JSON Schema only when its policies first need them (issue 16).
// A real process starts with a policy that needs neither (its log says nothing of either
// engine); the policy file then gains a `when` condition and an `arguments` schema while
// it serves, and both are enforced at once: the engines were loaded for the edit.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCanary, startCountingUpstream, type Canary, type CountingUpstream } from "../support/boundary-servers.ts";
import { startSidecarProcess, type SidecarProcess } from "../support/sidecar-process.ts";

const PLAIN = `apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: lazy }
spec:
  default: deny
  tools:
    echo: {}
`;

const WITH_CHECKS = `apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: lazy }
spec:
  default: deny
  tools:
    echo:
      when: "args.text != 'forbidden'"
      arguments: { type: object, properties: { text: { type: string, maxLength: 10 } } }
`;

let canary: Canary;
let upstream: CountingUpstream;
let sidecar: SidecarProcess;
const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };

async function callEcho(text: string): Promise<{ isError?: boolean; _meta?: { "mcpwarden.dev/decision"?: { decision: string } } }> {
  const response = await fetch(sidecar.mcpUrl, { method: "POST", headers, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text } } }) });
  return ((await response.json()) as { result: never }).result;
}

const engineLines = (): string[] => sidecar.output().split("\n").filter((line) => line.includes("loaded the CEL engine") || line.includes("loaded the JSON Schema engine"));

beforeAll(async () => {
  canary = await startCanary();
  upstream = await startCountingUpstream(canary);
  sidecar = await startSidecarProcess({ policy: PLAIN, upstream: { url: upstream.url } });
});

afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
  await canary?.close();
});

describe("engines loaded when a policy first needs them (real process)", () => {
  it("starts without CEL or JSON Schema, then enforces a when condition and an arguments schema added while it serves", async () => {
    expect(await callEcho("forbidden")).not.toHaveProperty("isError");
    expect(engineLines()).toEqual([]);

    writeFileSync(join(sidecar.policyDir, "policy.yaml"), WITH_CHECKS);
    // The edit is applied within moments; until then the old policy allows the call.
    let refused = false;
    for (let i = 0; i < 100 && !refused; i++) {
      refused = (await callEcho("forbidden")).isError === true;
      if (!refused) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(refused).toBe(true);
    expect((await callEcho("forbidden"))._meta?.["mcpwarden.dev/decision"]?.decision).toBe("deny");
    expect((await callEcho("far too long for the schema"))._meta?.["mcpwarden.dev/decision"]?.decision).toBe("invalid_arguments");
    expect(await callEcho("fine")).not.toHaveProperty("isError");
    expect(upstream.calledTools().filter((tool) => tool === "echo").length).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < 40 && engineLines().length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(engineLines()).toHaveLength(2);
  });
});
