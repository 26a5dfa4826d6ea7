// The reply to a POST the sidecar answered in part or whole: its own answers merged with
// the server's replies, in the request's order.

import { idKey } from "../../jsonrpc/message.ts";
import type { Intake } from "../intake/intake-post.ts";

/**
 * The reply to the client: the sidecar's answers and the server's replies, in request
 * order (a batch), or the one reply. Replies the request order cannot place (ids the
 * client did not send) keep their place at the end rather than being dropped.
 */
export function mergeReplies(intake: Intake, upstreamReplies: readonly unknown[]): unknown {
  const answers = new Map(intake.plan.answers.map((answer) => [answer.index, answer.response]));
  if (!intake.batch) {
    const only = answers.get(0) ?? upstreamReplies[0];
    return only;
  }
  const byId = new Map<string, unknown>();
  const unplaced: unknown[] = [];
  for (const reply of upstreamReplies) {
    const id = typeof reply === "object" && reply !== null ? (reply as { id?: unknown }).id : undefined;
    if ((typeof id === "string" || typeof id === "number") && !byId.has(idKey(id))) byId.set(idKey(id), reply);
    else unplaced.push(reply);
  }
  const out: unknown[] = [];
  intake.messages.forEach((message, index) => {
    const answer = answers.get(index);
    if (answer !== undefined) {
      out.push(answer);
      return;
    }
    if (message.kind !== "request") return;
    const key = idKey(message.id);
    const reply = byId.get(key);
    if (reply !== undefined) {
      out.push(reply);
      byId.delete(key);
    }
  });
  return [...out, ...byId.values(), ...unplaced];
}
