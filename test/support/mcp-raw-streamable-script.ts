// The Streamable HTTP features an SDK client does not show on its own, exercised with
// fetch: JSON-RPC batches (2025-03-26), the GET stream, Last-Event-ID resumption with the
// priming event and `retry`, Mcp-Method headers, DELETE and what a deleted session gets.

import type { TranscriptEntry } from "./mcp-feature-script.ts";
import { normaliseSessionIds } from "./mcp-feature-script.ts";

interface RawEvent {
  id?: string;
  retry?: string;
  event?: string;
  data: string;
}

function parseSseText(text: string): RawEvent[] {
  const events: RawEvent[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (block.trim() === "") continue;
    const event: RawEvent = { data: "" };
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") data.push(value);
      else if (field === "id") event.id = value;
      else if (field === "retry") event.retry = value;
      else if (field === "event") event.event = value;
    }
    event.data = data.join("\n");
    events.push(event);
  }
  return events;
}

const ACCEPT = "application/json, text/event-stream";

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; type: string; session: string | null; events: RawEvent[]; json: unknown }> {
  const response = await fetch(url, { method: "POST", headers: { accept: ACCEPT, "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const type = (response.headers.get("content-type") ?? "").split(";")[0] ?? "";
  const text = await response.text();
  return {
    status: response.status,
    type,
    session: response.headers.get("mcp-session-id"),
    events: type === "text/event-stream" ? parseSseText(text) : [],
    json: type === "application/json" && text !== "" ? JSON.parse(text) : undefined,
  };
}

function messagesOf(reply: { events: RawEvent[]; json: unknown }): unknown[] {
  const fromEvents = reply.events.filter((event) => event.data !== "").map((event) => JSON.parse(event.data) as unknown);
  const all = reply.json === undefined ? fromEvents : Array.isArray(reply.json) ? reply.json : [reply.json];
  return [...all].sort((a, b) => String((a as { id?: unknown }).id).localeCompare(String((b as { id?: unknown }).id)));
}

async function initialize(url: string, protocolVersion: string): Promise<{ session: string; reply: unknown }> {
  const reply = await post(url, { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion, capabilities: {}, clientInfo: { name: "raw", version: "1" } } });
  const session = reply.session ?? "";
  await post(url, { jsonrpc: "2.0", method: "notifications/initialized" }, { "mcp-session-id": session, "mcp-protocol-version": protocolVersion });
  return { session, reply: { status: reply.status, type: reply.type, hasSession: reply.session !== null, messages: messagesOf(reply) } };
}

export async function runRawStreamableScript(url: string): Promise<TranscriptEntry[]> {
  const transcript: TranscriptEntry[] = [];
  const note = (step: string, value: unknown): void => {
    transcript.push({ step, value });
  };

  const old = await initialize(url, "2025-03-26");
  note("initialize 2025-03-26", old.reply);
  const v1 = { "mcp-session-id": old.session, "mcp-protocol-version": "2025-03-26" };
  const batch = await post(
    url,
    [
      { jsonrpc: "2.0", id: 1, method: "ping" },
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "echo", arguments: { text: "in a batch" } } },
      { jsonrpc: "2.0", method: "notifications/roots/list_changed" },
    ],
    v1,
  );
  note("batch on a 2025-03-26 session", { status: batch.status, messages: messagesOf(batch) });
  const headed = await post(url, { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "echo", arguments: { text: "headers" } } }, { ...v1, "mcp-method": "tools/call", "mcp-name": "echo" });
  note("Mcp-Method and Mcp-Name that match", { status: headed.status, messages: messagesOf(headed) });

  const current = await initialize(url, "2025-11-25");
  note("initialize 2025-11-25", current.reply);
  const v3 = { "mcp-session-id": current.session, "mcp-protocol-version": "2025-11-25" };
  const streamed = await post(url, { jsonrpc: "2.0", id: 10, method: "tools/call", params: { name: "progress", arguments: { steps: 2 }, _meta: { progressToken: "p" } } }, v3);
  const priming = streamed.events[0];
  note("POST answered with SSE: priming event, retry, ids", {
    status: streamed.status,
    type: streamed.type,
    priming: { hasId: priming?.id !== undefined, retry: priming?.retry, data: priming?.data },
    events: streamed.events.map((event) => ({ hasId: event.id !== undefined, data: event.data === "" ? "" : JSON.parse(event.data) })),
  });
  // Resumption: everything after the priming event is replayed on a GET with Last-Event-ID.
  const resumed = await fetch(url, { method: "GET", headers: { accept: "text/event-stream", ...v3, "last-event-id": priming?.id ?? "" }, signal: AbortSignal.timeout(1_500) })
    .then(async (response) => {
      const events: RawEvent[] = [];
      const reader = response.body?.getReader();
      const decoder = new TextDecoder();
      let text = "";
      const deadline = Date.now() + 1_000;
      while (reader !== undefined && Date.now() < deadline) {
        const next = await Promise.race([reader.read(), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200))]);
        if (next === undefined) {
          if (parseSseText(text).length >= 3) break;
          continue;
        }
        if (next.done) break;
        text += decoder.decode(next.value, { stream: true });
      }
      await reader?.cancel().catch(() => undefined);
      events.push(...parseSseText(text));
      return { status: response.status, data: events.filter((event) => event.data !== "").map((event) => JSON.parse(event.data) as unknown) };
    })
    .catch((error: unknown) => ({ error: String(error) }));
  note("GET with Last-Event-ID replays the stream", resumed);

  const getStream = await fetch(url, { method: "GET", headers: { accept: "text/event-stream", ...v3 } });
  note("GET stream", { status: getStream.status, type: getStream.headers.get("content-type") });
  await getStream.body?.cancel();

  const deleted = await fetch(url, { method: "DELETE", headers: v3 });
  note("DELETE", { status: deleted.status });
  const after = await post(url, { jsonrpc: "2.0", id: 11, method: "ping" }, v3);
  note("POST after DELETE", { status: after.status });
  await fetch(url, { method: "DELETE", headers: v1 });
  return normaliseSessionIds(transcript) as TranscriptEntry[];
}
