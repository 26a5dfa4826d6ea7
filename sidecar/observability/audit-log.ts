// One audit line per decision: who called which tool, what was decided, by which policy
// and rule, and a digest of the arguments. Argument values only with --log-arguments:
// they can hold anything, secrets included.

import type { Logger } from "pino";
import type { DecisionObserver, DecisionRecord, ToolDefinitionObserver, ToolDefinitionRecord } from "../contracts.ts";
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

/** A tool definition a policy has not pinned, as a listing showed it. */
interface DefinitionAuditLine {
  audit: "tool_definition";
  tool: string;
  digest: string;
  /** The definition seen before; absent the first time the tool is listed. */
  previous?: string;
  policy: string;
  /** Absent when the tool has no pin. */
  pinned?: string;
  /** pin: its calls are refused; audit: reported only. */
  mode: "pin" | "audit";
}

export class AuditLog implements DecisionObserver, ToolDefinitionObserver {
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
      tool: loggedTool(record.tool),
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

  onToolDefinition(record: ToolDefinitionRecord): void {
    for (const unpinned of record.unpinned) {
      const line: DefinitionAuditLine = { audit: "tool_definition", tool: loggedTool(record.tool), digest: record.digest, policy: unpinned.policy, mode: unpinned.mode };
      if (record.previous !== undefined) line.previous = record.previous;
      if (unpinned.pinned !== undefined) line.pinned = unpinned.pinned;
      this.#logger.warn(line, unpinned.pinned === undefined ? "a listed tool has no pin" : "a listed tool's definition is not its pin");
    }
  }
}

function loggedTool(tool: string): string {
  return tool.length > MAX_LOGGED_TOOL_LENGTH ? `${tool.slice(0, MAX_LOGGED_TOOL_LENGTH)}…` : tool;
}
