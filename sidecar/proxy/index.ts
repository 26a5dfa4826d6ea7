export { createMcpProxy, type McpProxy } from "./create-mcp-proxy.ts";
export type { McpProxyOptions } from "./options.ts";
