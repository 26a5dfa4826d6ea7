export * from "./mcp-approval.ts";
export * from "./policy-stream.ts";
export * from "./rate-limit-failure-modes.ts";
export * from "./sidecar-injection.ts";
export * from "./tool-definition-report.ts";
