// A sidecar in front of a stdio test server whose received messages are recorded to a
// file in a temporary directory (MCP_RECORD_FILE), and whether one of its processes lives.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProxy, type ProxyUnderTest } from "./mcp-proxy-harness.ts";

export interface RecordedStdioProxy {
  readonly sidecar: ProxyUnderTest;
  /** The recorder file (read it with recordedMessages). */
  readonly record: string;
  close(): Promise<void>;
}

/** `script`: a stdio server run by node; `policyYaml` as startProxy takes it. */
export async function startRecordedStdioProxy(script: string, policyYaml?: string): Promise<RecordedStdioProxy> {
  const dir = mkdtempSync(join(tmpdir(), "warden-stdio-"));
  const record = join(dir, "received.jsonl");
  const sidecar = await startProxy({ command: process.execPath, args: [script], env: { MCP_RECORD_FILE: record } }, policyYaml);
  return {
    sidecar,
    record,
    async close() {
      await sidecar.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
