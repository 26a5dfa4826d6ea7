// What `mcp-warden policy pin` does (cli/policy-pin-command.ts registers it): the digests
// are taken over the tool objects exactly as the server sent them (the SDK's own result
// schema would drop fields it does not know, and the digest would differ from the one the
// sidecar takes), with the function the sidecar and the operator use.

import { dump } from "js-yaml";
import { z } from "zod";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { toolDefinitionDigest } from "../policy/index.ts";
import type { HttpOrSpawnedUpstream } from "./sidecar-command.ts";

/** tools/list pages read at most: a server whose cursors never end is refused, not followed forever. */
const MAX_PAGES = 1_000;

/** A tools/list page with every tool object kept as sent. */
const RawToolsPage = z.looseObject({ tools: z.array(z.record(z.string(), z.unknown())), nextCursor: z.string().optional() });

type ListedDefinitions = { ok: true; tools: Record<string, unknown>[] } | { ok: false; message: string };

/** Every tool object of every tools/list page, as the server sent it. */
export async function listToolDefinitions(upstream: HttpOrSpawnedUpstream, timeoutMs: number): Promise<ListedDefinitions> {
  const client = new Client({ name: "mcp-warden-policy-pin", version: "1" });
  const transport: Transport =
    "url" in upstream
      ? new URL(upstream.url).pathname.endsWith("/sse")
        ? new SSEClientTransport(new URL(upstream.url))
        : new StreamableHTTPClientTransport(new URL(upstream.url))
      : new StdioClientTransport({ command: upstream.command, args: upstream.args, stderr: "ignore" });
  try {
    await client.connect(transport, { timeout: timeoutMs });
    const tools: Record<string, unknown>[] = [];
    const cursors = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await client.request({ method: "tools/list", params: cursor === undefined ? {} : { cursor } }, RawToolsPage, { timeout: timeoutMs });
      tools.push(...result.tools);
      cursor = result.nextCursor;
      if (cursor === undefined) return { ok: true, tools };
      if (cursors.has(cursor)) return { ok: false, message: `the server returned the cursor ${JSON.stringify(cursor.slice(0, 64))} twice (its pages never end)` };
      cursors.add(cursor);
    }
    return { ok: false, message: `the server lists more than ${MAX_PAGES} pages of tools` };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** The `toolDefinitions:` block: mode pin and one pin per tool, by name. */
export function renderPins(tools: readonly Record<string, unknown>[], source: string): string {
  const pins: Record<string, string> = {};
  const problems: string[] = [];
  for (const tool of tools) {
    const name = tool["name"];
    if (typeof name !== "string") problems.push(`a tool without a name: ${JSON.stringify(tool).slice(0, 80)}`);
    else if (Object.hasOwn(pins, name)) problems.push(`${JSON.stringify(name)} is listed twice`);
    else pins[name] = toolDefinitionDigest(tool);
  }
  const sorted = Object.fromEntries(Object.entries(pins).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const count = Object.keys(sorted).length;
  const header = [
    `# Pins of the ${count} ${count === 1 ? "tool" : "tools"} ${source} lists now (mcp-warden policy pin).`,
    "# Review each definition first: a pin approves it as it is. Paste under spec:",
    ...problems.map((problem) => `# not pinned: ${problem}`),
  ];
  return `${header.join("\n")}\n${dump({ toolDefinitions: { mode: "pin", pins: sorted } }, { lineWidth: -1 })}`;
}
