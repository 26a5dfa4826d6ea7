// The MCP protocol versions the sidecar understands: what `mcp-warden version` prints and
// what the processes log at start. 2024-11-05 is the legacy HTTP+SSE transport;
// 2025-03-26 added Streamable HTTP and batches; 2026-07-28 stateless requests.
export const MCP_PROTOCOL_VERSIONS = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"] as const;
