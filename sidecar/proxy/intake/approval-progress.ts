// Progress while a call is held for approval: when the client's tools/call carried
// params._meta.progressToken, each "still waiting" of the approval gate becomes an MCP
// notifications/progress for that token, sent on the stream that will carry the call's
// answer (the transport's ClientNotifier). It tells the agent what it waits for, and it
// keeps an SDK client's request timeout alive (resetTimeoutOnProgress).

import type { WaitingListener } from "../../approvals/approval-gate.ts";
import type { JsonRpcId } from "../../jsonrpc/message.ts";

/** How a transport reaches the client while a request of its is being decided. */
export interface ClientNotifier {
  /** Sends a JSON-RPC notification to the client; false when the client is gone. */
  notify(message: object): boolean;
}

/** Progress counts up from 1, one per notification: MCP wants it to increase each time. */
export function approvalProgress(progressToken: JsonRpcId, notifier: ClientNotifier): WaitingListener {
  let progress = 0;
  return (approval, pendingMs) =>
    notifier.notify({
      jsonrpc: "2.0",
      method: "notifications/progress",
      params: { progressToken, progress: ++progress, message: `waiting for approval ${approval} (pending ${Math.round(pendingMs / 1000)} s)` },
    });
}
