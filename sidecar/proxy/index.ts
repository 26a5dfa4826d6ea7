export { createMcpProxy, type McpProxy } from "./create-mcp-proxy.ts";
export type { HttpUpstream, McpProxyLimits, McpProxyOptions, ProxyLogger, ProxyTimings, StdioUpstream } from "./options.ts";
export { DECISION_META_KEY, refusalResponse, refusalText } from "./intake/refusal.ts";
export { holdForApproval } from "./intake/approval-hold.ts";
