// A client's messages, decided one by one in request order (a batch's elements share a
// rate-limit budget in that order): what is forwarded, and what the sidecar answers
// itself. The forwarded messages are the parsed objects, serialised later: one parse.

import { agentFacingDecision } from "../../../policy/index.ts";
import { INTERNAL_ERROR, INVALID_REQUEST, errorResponse } from "../../jsonrpc/error-codes.ts";
import { isJsonObject, progressTokenOf, type JsonRpcId, type JsonRpcMessage } from "../../jsonrpc/message.ts";
import { decideToolCall, type ToolCallContext, type ToolCallDeps } from "./decide-tool-call.ts";
import { refusalResponse } from "./refusal.ts";

interface SidecarAnswer {
  /** Position of the answered message in the request. */
  readonly index: number;
  readonly response: object;
}

export interface MessagePlan {
  readonly forward: JsonRpcMessage[];
  readonly answers: SidecarAnswer[];
  /** Forwarded tools/list requests: their responses must be filtered. */
  readonly toolsListIds: JsonRpcId[];
  /** Forwarded initialize requests: their results name the session's protocol version. */
  readonly initializeIds: JsonRpcId[];
}

/**
 * A tools/call the sidecar cannot decide: no string `name`, or `arguments` that is not an
 * object. Checked for the whole request before any call is decided, so a refused request
 * consumes no rate-limit budget.
 */
export function toolCallShapeProblem(messages: readonly JsonRpcMessage[]): { id: JsonRpcId | null; code: number; problem: string } | undefined {
  for (const message of messages) {
    if (message.kind !== "request" || message.method !== "tools/call") continue;
    const name = message.params?.["name"];
    if (typeof name !== "string") return { id: message.id, code: INVALID_REQUEST, problem: "tools/call needs params.name, a string" };
    const args = message.params?.["arguments"];
    if (args !== undefined && !isJsonObject(args)) {
      return { id: message.id, code: INVALID_REQUEST, problem: "tools/call params.arguments must be an object" };
    }
  }
  return undefined;
}

export async function planMessages(messages: readonly JsonRpcMessage[], context: ToolCallContext, deps: ToolCallDeps): Promise<MessagePlan> {
  const plan: MessagePlan = { forward: [], answers: [], toolsListIds: [], initializeIds: [] };
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index] as JsonRpcMessage;
    if (message.kind === "request") {
      if (message.method === "tools/call") {
        const tool = message.params?.["name"] as string;
        const decision = await decideToolCall(tool, message.params?.["arguments"], context, deps, progressTokenOf(message.params));
        if (decision.decision !== "allow") {
          // The agent is told what it may know: a hidden tool's refusal does not reveal it.
          plan.answers.push({ index, response: refusalResponse(message.id, tool, agentFacingDecision(context.table, decision)) });
          continue;
        }
      } else if (message.method === "tools/list") {
        if (context.table === undefined) {
          const answer = errorResponse(message.id, INTERNAL_ERROR, "the sidecar has no policy loaded yet, so it cannot list tools");
          plan.answers.push({ index, response: answer });
          continue;
        }
        plan.toolsListIds.push(message.id);
      } else if (message.method === "initialize") {
        plan.initializeIds.push(message.id);
      }
    }
    plan.forward.push(message);
  }
  return plan;
}

/** The forwarded body: one message, or the allowed elements of a batch as one batch. */
export function serialiseForward(forward: readonly JsonRpcMessage[], batch: boolean): string {
  if (!batch && forward.length === 1) return JSON.stringify((forward[0] as JsonRpcMessage).value);
  return JSON.stringify(forward.map((message) => message.value));
}

/** The method a POST is timed under: its first request's, else its first message's. */
export function timedMethod(messages: readonly JsonRpcMessage[]): string {
  const request = messages.find((message) => message.kind === "request");
  const first = request ?? messages[0];
  return first === undefined || first.kind === "response" ? "response" : first.method;
}
