// What a sidecar tells the operator about the tool definitions its upstream lists
// (docs/architecture.md "Sidecar ↔ operator protocol"): `POST /v1/tool-definitions`
// with the pod's bearer token, the last digest seen per tool, sent again whenever a
// listing shows a digest not reported yet. The operator keeps it on the Pod (annotation
// mcpwarden.dev/tool-definitions) and the leader summarises it in the status of each
// McpPolicy with toolDefinitions. Types and constants only.

export const TOOL_DEFINITIONS_PATH = "/v1/tool-definitions";

/** The body: tool name → `sha256:<hex>`, the pod's latest view of every tool it reports. */
export interface ToolDefinitionReport {
  tools: Record<string, string>;
}

/** Tools one report carries at most (the first ones listed); more are not reported. */
export const MAX_REPORTED_TOOLS = 128;
/** Longer names are not reported (MCP tool names are short). */
export const MAX_REPORTED_NAME_LENGTH = 256;
/** A larger body is refused (413) before it is parsed. */
export const MAX_REPORT_BYTES = 64 * 1024;
/** The sidecar reports at most this often; the operator answers 429 to a pod that reports much faster. */
export const REPORT_MIN_INTERVAL_MS = 1_000;
