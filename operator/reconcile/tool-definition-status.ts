// status.toolDefinitions of a policy with spec.toolDefinitions: per tool, its pin and the
// definitions its selected pods' sidecars last reported (the Pod annotation
// mcpwarden.dev/tool-definitions), how many pods saw each, and whether any is not the pin.
// Bounded: at most MAX_STATUS_TOOLS tools and MAX_SEEN_DIGESTS definitions per tool, with
// a count of what was left out. Pure: the reconciler gathers the inputs.
import type { ToolDefinitionsSpec } from "../../policy/index.ts";
import type { ToolDefinitionsStatus, ToolDefinitionStatus } from "../kube-objects.ts";

export const MAX_STATUS_TOOLS = 64;
export const MAX_SEEN_DIGESTS = 8;

/** A selected pod's last report: tool name → digest. */
export type PodDefinitions = ReadonlyMap<string, string>;

export function toolDefinitionsStatus(spec: ToolDefinitionsSpec, pods: readonly PodDefinitions[]): ToolDefinitionsStatus {
  const pins = spec.pins ?? {};
  const seen = new Map<string, Map<string, number>>();
  for (const name of Object.keys(pins)) seen.set(name, new Map());
  for (const pod of pods) {
    for (const [name, digest] of pod) {
      let counts = seen.get(name);
      if (counts === undefined) seen.set(name, (counts = new Map()));
      counts.set(digest, (counts.get(digest) ?? 0) + 1);
    }
  }
  const tools: ToolDefinitionStatus[] = [...seen].map(([name, counts]) => {
    const pinned = Object.hasOwn(pins, name) ? pins[name] : undefined;
    const digests = [...counts].map(([digest, count]) => ({ digest, pods: count })).sort((a, b) => b.pods - a.pods || compare(a.digest, b.digest));
    const tool: ToolDefinitionStatus = { name, changed: digests.some((entry) => entry.digest !== pinned), seen: digests.slice(0, MAX_SEEN_DIGESTS) };
    if (pinned !== undefined) tool.pinned = pinned;
    if (digests.length > MAX_SEEN_DIGESTS) tool.omittedDigests = digests.length - MAX_SEEN_DIGESTS;
    return tool;
  });
  tools.sort((a, b) => Number(b.changed) - Number(a.changed) || compare(a.name, b.name));
  const status: ToolDefinitionsStatus = { tools: tools.slice(0, MAX_STATUS_TOOLS) };
  if (tools.length > MAX_STATUS_TOOLS) status.omittedTools = tools.length - MAX_STATUS_TOOLS;
  return status;
}

/** The pinned tools whose pods see another definition: what a Warning Event is recorded for, one per (tool, digest). */
export function changedPins(status: ToolDefinitionsStatus): { tool: string; pinned: string; digest: string; pods: number }[] {
  const changes: { tool: string; pinned: string; digest: string; pods: number }[] = [];
  for (const tool of status.tools) {
    if (tool.pinned === undefined) continue;
    for (const entry of tool.seen) if (entry.digest !== tool.pinned) changes.push({ tool: tool.name, pinned: tool.pinned, digest: entry.digest, pods: entry.pods });
  }
  return changes;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
