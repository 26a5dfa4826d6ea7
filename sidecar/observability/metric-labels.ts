// Label values are bounded (ARCHITECTURE.md "Metrics"): a client must not be able to
// grow the number of series by naming new tools or methods.

import type { DecisionTable } from "../../policy/index.ts";

const OTHER_TOOL = "_other";
const OTHER_METHOD = "other";

/**
 * The JSON-RPC methods of every MCP version up to 2026-07-28, plus `batch` for a
 * JSON-RPC batch timed as one request. Anything else is `other`.
 */
const METHOD_LABELS: ReadonlySet<string> = new Set([
  "initialize",
  "ping",
  "tools/list",
  "tools/call",
  "resources/list",
  "resources/templates/list",
  "resources/read",
  "resources/subscribe",
  "resources/unsubscribe",
  "prompts/list",
  "prompts/get",
  "completion/complete",
  "logging/setLevel",
  "sampling/createMessage",
  "elicitation/create",
  "roots/list",
  "tasks/get",
  "tasks/result",
  "tasks/list",
  "tasks/cancel",
  "notifications/initialized",
  "notifications/cancelled",
  "notifications/progress",
  "notifications/message",
  "notifications/roots/list_changed",
  "notifications/tools/list_changed",
  "notifications/resources/list_changed",
  "notifications/resources/updated",
  "notifications/prompts/list_changed",
  "notifications/elicitation/complete",
  "notifications/tasks/status",
  "batch",
]);

export function methodLabel(method: string): string {
  return METHOD_LABELS.has(method) ? method : OTHER_METHOD;
}

/** An upstream listing more tools than this does not get a series for each of the rest. */
const MAX_LISTED_TOOL_LABELS = 1_000;

/**
 * Tool names that may be labels: the exact names policies write (rules and hide
 * entries) and the names the upstream listed, else `_other`.
 */
export class ToolLabeler {
  #fromPolicy: ReadonlySet<string> = new Set();
  readonly #listed = new Set<string>();
  #upstreamListed: (() => ReadonlySet<string>) | undefined;

  label(tool: string): string {
    if (this.#fromPolicy.has(tool) || this.#listed.has(tool)) return tool;
    // The proxy's own record of listed names: taken over one name at a time, up to our cap.
    if (this.#upstreamListed?.().has(tool) === true && this.#listed.size < MAX_LISTED_TOOL_LABELS && tool.length <= 128) {
      this.#listed.add(tool);
      return tool;
    }
    return OTHER_TOOL;
  }

  /** Where the proxy keeps the names the upstream listed (McpProxy.upstreamTools). */
  useUpstreamTools(listed: () => ReadonlySet<string>): void {
    this.#upstreamListed = listed;
  }

  /** Names from a tools/list result page; kept across pages and sessions, up to the cap. */
  observeToolsList(names: Iterable<string>): void {
    for (const name of names) {
      if (this.#listed.size >= MAX_LISTED_TOOL_LABELS) return;
      if (typeof name === "string" && name.length <= 128) this.#listed.add(name);
    }
  }

  observePolicy(table: DecisionTable): void {
    const names = new Set<string>();
    for (const policy of [...table.enforcing, ...table.audit]) {
      for (const name of policy.exact.keys()) names.add(name);
      for (const entry of policy.hide) if (entry.exact) names.add(entry.glob.pattern);
    }
    this.#fromPolicy = names;
  }
}
