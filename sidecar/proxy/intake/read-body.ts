// A request body, counted as it streams in: a body over the limit is refused as soon as
// it passes the limit (or at once, by its Content-Length), never held whole.

import type { IncomingMessage } from "node:http";

export type BodyResult = { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly reason: "too_large" | "aborted" };

export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return Promise.resolve({ ok: false, reason: "too_large" });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > maxBytes) {
        chunks.length = 0;
        // Drain the rest without keeping it, so the 413 can still be written.
        req.resume();
        settle({ ok: false, reason: "too_large" });
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => settle({ ok: true, bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received) }));
    req.once("error", () => settle({ ok: false, reason: "aborted" }));
    req.once("close", () => settle({ ok: false, reason: "aborted" }));
  });
}
