// What a stdio MCP server writes on stdout, cut into lines (newline-delimited JSON-RPC),
// with a cap: a line longer than --max-stdio-line-bytes is never held, only scanned for
// the ids of the messages it carries as it passes. Shared by a process the sidecar spawns
// and one the launcher in the server's container runs.
import { JsonMessageScanner, type ScannedMessage } from "../replies/json-message-scanner.ts";

export interface ServerOutputEvents {
  onLine(line: string): void;
  /** A line over the cap was dropped as it arrived; these are the messages it held. */
  onOversizedLine(messages: readonly ScannedMessage[]): void;
}

export class ServerOutputLines {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #maxLineBytes: number;
  /** Reads the ids of a line over the cap while it is dropped; undefined: no such line under way. */
  #oversized: JsonMessageScanner | undefined;

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes;
  }

  push(chunk: Buffer, events: ServerOutputEvents): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      const part = chunk.subarray(start, newline < 0 ? chunk.length : newline);
      if (this.#oversized !== undefined) {
        this.#oversized.push(part);
      } else if (this.#pendingBytes + part.length > this.#maxLineBytes) {
        // Over the cap: from here the line is only scanned for its ids, never held.
        this.#oversized = new JsonMessageScanner();
        for (const held of this.#pending) this.#oversized.push(held);
        this.#oversized.push(part);
        this.#pending = [];
        this.#pendingBytes = 0;
      } else if (newline < 0) {
        this.#pending.push(part);
        this.#pendingBytes += part.length;
      }
      if (newline < 0) return;
      start = newline + 1;
      if (this.#oversized !== undefined) {
        const messages = this.#oversized.messages;
        this.#oversized = undefined;
        events.onOversizedLine(messages);
        continue;
      }
      const line = this.#pending.length === 0 ? part : Buffer.concat([...this.#pending, part]);
      this.#pending = [];
      this.#pendingBytes = 0;
      const text = line.toString("utf8").replace(/\r$/, "");
      if (text.trim() !== "") events.onLine(text);
    }
  }
}
