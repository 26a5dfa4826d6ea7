// One audit line per decision: who called which tool, what was decided, by which policy
// and rule, and a digest of the arguments. Argument values only with --log-arguments:
// they can hold anything, secrets included.

import type { Logger } from "pino";
import type { DecisionObserver, DecisionRecord } from "../contracts.ts";
import { auditLevel } from "./sidecar-logger.ts";

/** Tool names are the caller's text; a longer one is cut in the log (the digest still names the call). */
const MAX_LOGGED_TOOL_LENGTH = 256;

export interface AuditLogOptions {
  logArguments?: boolean;
}

interface AuditLine {
  audit: "decision";
  tool: string;
  decision: string;
  mode: "enforce" | "audit";
  policy: string;
  rule: string;
  reason: string;
  caller: string;
  argumentDigest: string;
  retryAfterSeconds?: number;
  rateLimitCounter?: string;
  arguments?: unknown;
}

export class AuditLog implements DecisionObserver {
  readonly #logger: Logger;
  readonly #logArguments: boolean;

  constructor(logger: Logger, options: AuditLogOptions = {}) {
    this.#logger = logger.child({}, { level: auditLevel(logger.level as Parameters<typeof auditLevel>[0]) });
    this.#logArguments = options.logArguments ?? false;
  }

  onDecision(record: DecisionRecord): void {
    const { decision } = record;
    const line: AuditLine = {
      audit: "decision",
      tool: record.tool.length > MAX_LOGGED_TOOL_LENGTH ? `${record.tool.slice(0, MAX_LOGGED_TOOL_LENGTH)}…` : record.tool,
      decision: decision.decision,
      mode: record.mode,
      policy: decision.policy,
      rule: decision.rule,
      reason: decision.reason,
      caller: record.callerId,
      argumentDigest: record.argumentDigest,
    };
    if (decision.retryAfterSeconds !== undefined) line.retryAfterSeconds = decision.retryAfterSeconds;
    if (record.rateLimitCounter !== undefined) line.rateLimitCounter = record.rateLimitCounter;
    if (this.#logArguments && record.arguments !== undefined) line.arguments = record.arguments;
    this.#logger.info(line, "tool call");
  }
}
