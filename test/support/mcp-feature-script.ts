// The enumerated feature script of the transparency tests: what a real SDK client does
// with a server, step by step, written down as a transcript. Run once directly against
// the server and once through the sidecar with an allow-all policy, the two transcripts
// must be equal once session ids are normalised.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type Notification,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

export interface TranscriptEntry {
  readonly step: string;
  readonly value: unknown;
}

export type FeatureStep = (client: FeatureClient) => Promise<unknown>;

class FeatureClient {
  readonly client: Client;
  readonly notifications: { method: string; params: unknown }[] = [];

  constructor() {
    this.client = new Client(
      { name: "transparency-client", version: "1.0.0" },
      { capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } } },
    );
    this.client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const first = request.params.messages[0]?.content;
      const text = first !== undefined && "text" in first ? String(first.text) : "";
      return { model: "test-model", role: "assistant", content: { type: "text", text: `sampled: ${text}` } };
    });
    this.client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "accept", content: { name: "Ada Lovelace", email: "ada@example.com" } }));
    this.client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: "file:///work", name: "work" }] }));
    const keep = (notification: Notification): void => {
      this.notifications.push({ method: notification.method, params: notification.params });
    };
    this.client.setNotificationHandler(LoggingMessageNotificationSchema, keep);
    this.client.setNotificationHandler(ResourceUpdatedNotificationSchema, keep);
    this.client.setNotificationHandler(ToolListChangedNotificationSchema, keep);
  }

  /** Waits (bounded) until `count` notifications of `method` arrived; returns them. */
  async waitFor(method: string, count: number, ms = 3_000): Promise<unknown[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const seen = this.notifications.filter((entry) => entry.method === method);
      if (seen.length >= count || Date.now() > deadline) return seen.map((entry) => entry.params);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

export async function runFeatureScript(transport: Transport, steps: Readonly<Record<string, FeatureStep>>): Promise<TranscriptEntry[]> {
  const feature = new FeatureClient();
  const transcript: TranscriptEntry[] = [];
  await feature.client.connect(transport);
  try {
    for (const [step, run] of Object.entries(steps)) {
      let value: unknown;
      try {
        value = await run(feature);
      } catch (error) {
        value = { error: error instanceof Error ? error.message : String(error) };
      }
      transcript.push({ step, value });
    }
  } finally {
    await feature.client.close();
  }
  return normaliseSessionIds(transcript) as TranscriptEntry[];
}

/** Session ids and other UUIDs differ between runs by design. */
export function normaliseSessionIds(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>"));
}

async function allTools(feature: FeatureClient): Promise<unknown> {
  const tools: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = await feature.client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools;
}

/** Every feature of the SDK-built feature server (test/support/mcp-feature-server.ts). */
export const FEATURE_SERVER_STEPS: Readonly<Record<string, FeatureStep>> = {
  initialize: async ({ client }) => ({ server: client.getServerVersion(), capabilities: client.getServerCapabilities(), instructions: client.getInstructions() }),
  ping: async ({ client }) => client.ping(),
  "tools/list (all pages)": allTools,
  "tools/call": async ({ client }) => client.callTool({ name: "echo", arguments: { text: "hello" } }),
  "tools/call with progress": async ({ client }) => {
    const progress: unknown[] = [];
    const result = await client.callTool({ name: "progress", arguments: { steps: 3 } }, undefined, { onprogress: (update) => progress.push(update) });
    return { result, progress };
  },
  cancellation: async ({ client }) => {
    const abort = new AbortController();
    const call = client.callTool({ name: "slow", arguments: {} }, undefined, { signal: abort.signal, onprogress: () => abort.abort("enough") });
    return call.then(
      () => "not cancelled",
      (error: unknown) => ({ cancelled: error instanceof Error ? error.message : String(error) }),
    );
  },
  "logging/setLevel + notifications/message": async (feature) => {
    await feature.client.setLoggingLevel("info");
    const result = await feature.client.callTool({ name: "log", arguments: {} });
    return { result, messages: await feature.waitFor("notifications/message", 3) };
  },
  "resources/list": async ({ client }) => client.listResources(),
  "resources/read": async ({ client }) => client.readResource({ uri: "file:///readme.txt" }),
  "resources/templates/list": async ({ client }) => client.listResourceTemplates(),
  "resources/read (template)": async ({ client }) => client.readResource({ uri: "runs://run-7" }),
  "resources/subscribe + updated": async (feature) => {
    await feature.client.subscribeResource({ uri: "file:///readme.txt" });
    const touched = await feature.client.callTool({ name: "touch", arguments: {} });
    const updates = await feature.waitFor("notifications/resources/updated", 1);
    await feature.client.unsubscribeResource({ uri: "file:///readme.txt" });
    return { touched, updates };
  },
  "prompts/list": async ({ client }) => client.listPrompts(),
  "prompts/get": async ({ client }) => client.getPrompt({ name: "greet", arguments: { name: "alice" } }),
  "completion/complete (prompt)": async ({ client }) => client.complete({ ref: { type: "ref/prompt", name: "greet" }, argument: { name: "name", value: "al" } }),
  "completion/complete (resource)": async ({ client }) => client.complete({ ref: { type: "ref/resource", uri: "runs://{id}" }, argument: { name: "id", value: "run" } }),
  "sampling/createMessage": async ({ client }) => client.callTool({ name: "sample", arguments: { prompt: "two plus two" } }),
  "elicitation/create": async ({ client }) => client.callTool({ name: "elicit", arguments: {} }),
  "roots/list": async ({ client }) => {
    await client.sendRootsListChanged();
    return client.callTool({ name: "roots", arguments: {} });
  },
  "tools/list_changed": async (feature) => {
    const added = await feature.client.callTool({ name: "add_tool", arguments: { name: "fresh" } });
    const changed = await feature.waitFor("notifications/tools/list_changed", 1);
    return { added, changed, tools: await allTools(feature) };
  },
  "unknown method error": async ({ client }) => client.request({ method: "no/such/method", params: {} }, z.object({})),
};

/** The same kinds of feature against @modelcontextprotocol/server-everything. */
export const EVERYTHING_STEPS: Readonly<Record<string, FeatureStep>> = {
  initialize: async ({ client }) => ({ server: client.getServerVersion(), capabilities: client.getServerCapabilities() }),
  ping: async ({ client }) => client.ping(),
  "tools/list": async (feature) => allTools(feature),
  "tools/call echo": async ({ client }) => client.callTool({ name: "echo", arguments: { message: "hello" } }),
  "tools/call get-sum": async ({ client }) => client.callTool({ name: "get-sum", arguments: { a: 2, b: 3 } }),
  "tools/call get-tiny-image": async ({ client }) => client.callTool({ name: "get-tiny-image", arguments: {} }),
  "tools/call get-structured-content": async ({ client }) => client.callTool({ name: "get-structured-content", arguments: { location: "New York" } }),
  "progress (trigger-long-running-operation)": async ({ client }) => {
    const progress: unknown[] = [];
    const result = await client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 0.3, steps: 3 } }, undefined, { onprogress: (update) => progress.push(update) });
    // The last update races the result (see the feature server's progress tool): not kept.
    return { result, progress: progress.slice(0, 2) };
  },
  "resources/list": async ({ client }) => client.listResources(),
  "resources/templates/list": async ({ client }) => client.listResourceTemplates(),
  "resources/read": async ({ client }) => {
    const first = (await client.listResources()).resources[0];
    return first === undefined ? "no resources" : client.readResource({ uri: first.uri });
  },
  "prompts/list": async ({ client }) => client.listPrompts(),
  "prompts/get": async ({ client }) => client.getPrompt({ name: "simple-prompt", arguments: {} }),
  "completion/complete": async ({ client }) => client.complete({ ref: { type: "ref/prompt", name: "completable-prompt" }, argument: { name: "department", value: "E" } }),
  "logging/setLevel": async ({ client }) => client.setLoggingLevel("error"),
  "sampling (trigger-sampling-request)": async ({ client }) => client.callTool({ name: "trigger-sampling-request", arguments: { prompt: "hi", maxTokens: 5 } }),
  "elicitation (trigger-elicitation-request)": async ({ client }) => client.callTool({ name: "trigger-elicitation-request", arguments: {} }),
  "roots (get-roots-list)": async ({ client }) => client.callTool({ name: "get-roots-list", arguments: {} }),
};
