export { SidecarMetrics, LATENCY_BUCKETS_SECONDS, APPROVAL_WAIT_BUCKETS_SECONDS, APPROVAL_OUTCOMES, type ApprovalOutcome, type SidecarMetricsOptions } from "./sidecar-metrics.ts";
export { ToolLabeler, methodLabel, METHOD_LABELS, OTHER_METHOD, OTHER_TOOL, MAX_LISTED_TOOL_LABELS } from "./metric-labels.ts";
export { argumentDigest, canonicalArguments } from "./argument-digest.ts";
export { AuditLog, type AuditLine, type AuditLogOptions } from "./audit-log.ts";
export { createSidecarLogger, isLogLevel, LOG_LEVELS, auditLevel, type LogLevel, type SidecarLoggerOptions } from "./sidecar-logger.ts";
export { fanOutDecisions } from "./decision-fan-out.ts";
