// What the agent sees when the sidecar refuses a tools/call (ARCHITECTURE.md "Decisions
// and what the agent sees"): a normal CallToolResult with isError, so the model reads the
// reason as tool output and can adapt, plus the decision in _meta for programs.

import { TOOL_NOT_FOUND, type Decision } from "../../../policy/index.ts";
import type { JsonRpcId } from "../../jsonrpc/message.ts";

const DECISION_META_KEY = "mcpwarden.dev/decision";

export interface RefusalResponse {
  readonly jsonrpc: "2.0";
  readonly id: JsonRpcId;
  readonly result: {
    readonly content: readonly { readonly type: "text"; readonly text: string }[];
    readonly isError: true;
    readonly _meta: { readonly [DECISION_META_KEY]: Decision };
  };
}

export function refusalResponse(id: JsonRpcId, tool: string, decision: Decision): RefusalResponse {
  const meta: Decision = {
    decision: decision.decision,
    policy: decision.policy,
    rule: decision.rule,
    reason: decision.reason,
    ...(decision.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: decision.retryAfterSeconds }),
  };
  return {
    jsonrpc: "2.0",
    id,
    result: { content: [{ type: "text", text: refusalText(tool, decision) }], isError: true, _meta: { [DECISION_META_KEY]: meta } },
  };
}

export function refusalText(tool: string, decision: Decision): string {
  const by = decision.policy === "" ? "" : ` by policy ${decision.policy}${decision.rule === "" ? "" : ` (${decision.rule})`}`;
  const name = JSON.stringify(tool);
  switch (decision.decision) {
    case "rate_limited": {
      const seconds = decision.retryAfterSeconds ?? 1;
      return `The call to tool ${name} was rate limited${by}: ${decision.reason}. Retry after ${seconds} ${seconds === 1 ? "second" : "seconds"}.`;
    }
    case "invalid_arguments":
      return `The call to tool ${name} was refused${by} because its arguments do not satisfy the policy: ${decision.reason}`;
    case "approval_required":
      return `The call to tool ${name} needs approval${by}: ${decision.reason}`;
    case "definition_changed":
      // Nothing of the new definition or its digests: they are for people (_meta, audit), not the model.
      return `The call to tool ${name} was refused: the tool's definition changed since it was approved.`;
    case "deny":
      if (decision === TOOL_NOT_FOUND) return `Tool ${name} not found.`;
      return `The call to tool ${name} was denied${by}: ${decision.reason}`;
    case "allow":
      // Never refused; written for completeness of the kinds.
      return `The call to tool ${name} was allowed${by}.`;
    default:
      return decision.decision satisfies never;
  }
}
