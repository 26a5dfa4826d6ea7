// A client's POST as every transport receives it: where progress goes while a call is held
// for approval, the watch on the client leaving, the intake (parse, check, decide), and
// what the sidecar must read in the replies. The transports differ only in where they
// send what is forwarded and how answers travel back.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestTrace } from "../../contracts.ts";
import type { ClientNotifier } from "./approval-progress.ts";
import { abortWhenClientLeaves } from "./client-leaves.ts";
import { intakePost, type Intake } from "./intake-post.ts";
import { timedMethod } from "./plan-messages.ts";
import type { ProxyCore } from "../proxy-core.ts";
import { EarlySseReply } from "../replies/early-sse-reply.ts";
import type { ResponseWatch } from "../replies/response-watch.ts";

export interface PostOrigin {
  /** The MCP session the POST belongs to ("" when none). */
  readonly sessionId: string;
  /** The version its initialize negotiated, when the sidecar saw it. */
  readonly protocolVersion: string | undefined;
  /**
   * Where progress goes while a call is held for approval: "reply" turns the POST's reply
   * into an event stream (Streamable HTTP, when the client accepts one), with `replyHeaders`;
   * otherwise the session's own stream (legacy SSE).
   */
  readonly progress: "reply" | ClientNotifier;
  readonly replyHeaders?: Record<string, string>;
  /** Aborts when the session ends: its held calls are not made either. */
  readonly sessionGone?: AbortSignal;
}

export interface ReceivedPost {
  readonly intake: Intake;
  /** The method its timings are recorded under. */
  readonly method: string;
  /** Aborts when the client can no longer get the answers (its connection, or its session, ended). */
  readonly clientGone: AbortSignal;
  /** The reply, already opened as an event stream to carry progress; undefined when it was not. */
  readonly early: EarlySseReply | undefined;
  /** Records the sidecar's own time on the POST (arrival to now). Once. */
  observed(): void;
  /** Registers the forwarded requests whose answers the sidecar must read (tools/list, initialize). */
  watchAnswers(...watches: readonly (ResponseWatch | undefined)[]): void;
  /** The POST's span (ended when the response is); undefined: not traced. */
  readonly trace: RequestTrace | undefined;
}

/** undefined when the POST was answered already (refused, or its client left). `body`: see intakePost. */
export async function receivePost(core: ProxyCore, req: IncomingMessage, res: ServerResponse, origin: PostOrigin, body?: Buffer): Promise<ReceivedPost | undefined> {
  const arrived = performance.now();
  const trace = core.tracer?.startRequest(req.headers);
  if (trace !== undefined) res.once("close", () => trace.end(res.statusCode));
  const notifier = origin.progress === "reply" ? EarlySseReply.offer(req.headers.accept, res, origin.replyHeaders ?? {}) : origin.progress;
  // Watched from the start: a call held for approval whose client leaves is not made.
  const clientGone = abortWhenClientLeaves(res, origin.sessionGone).signal;
  const intake = await intakePost(core, req, res, { id: origin.sessionId, protocolVersion: origin.protocolVersion, notifier, clientGone, trace }, body);
  if (intake === undefined) return undefined;
  const method = timedMethod(intake.messages);
  let observed = false;
  return {
    intake,
    method,
    clientGone,
    trace,
    early: notifier instanceof EarlySseReply && notifier.opened ? notifier : undefined,
    observed() {
      if (observed) return;
      observed = true;
      core.observe("request", method, arrived);
    },
    watchAnswers(...watches) {
      for (const watch of watches) {
        if (watch === undefined) continue;
        for (const id of intake.plan.toolsListIds) watch.add(id, "tools/list");
        for (const id of intake.plan.initializeIds) watch.add(id, "initialize");
      }
    },
  };
}
