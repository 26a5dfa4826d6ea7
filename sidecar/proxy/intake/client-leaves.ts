// Learning at once that a client can no longer get the answer to its request: the upstream
// request made for it is then abandoned, and a call of it held for approval is not made.

import type { ServerResponse } from "node:http";

/**
 * Aborts when the client goes away before its response is done (its connection closed),
 * or when `session` (the end of the client's session) aborts first: the upstream request
 * is then abandoned, and a call held for approval is not made. Not on a normal finish: an
 * abort builds a DOMException, a measurable cost per request.
 */
export function abortWhenClientLeaves(res: ServerResponse, session?: AbortSignal): AbortController {
  const abort = new AbortController();
  const sessionEnded = (): void => abort.abort();
  if (session?.aborted === true) abort.abort();
  else session?.addEventListener("abort", sessionEnded, { once: true });
  res.once("close", () => {
    session?.removeEventListener("abort", sessionEnded);
    if (!res.writableFinished) abort.abort();
  });
  return abort;
}
