// Server-Sent Events split as bytes arrive, in time linear in their size. An event up to
// `bufferLimit` bytes is handed over whole (to be read, and rewritten when the sidecar
// must); a larger one is handed over in pieces as it arrives, never held, with the
// JSON-RPC ids of its data scanned on the way (json-message-scanner.ts). The reader of
// the stream raises `bufferLimit` while an answer it must inspect is outstanding.

import type { JsonRpcId } from "../../jsonrpc/message.ts";
import { JsonMessageScanner, type ScannedMessage } from "./json-message-scanner.ts";

export type SseItem =
  /** A whole event as received, its blank line included. */
  | { readonly kind: "event"; readonly raw: Buffer }
  /**
   * The first bytes of an event over the buffer limit: the rest follows in pieces. `ids`:
   * the JSON-RPC ids its data named so far; `idsComplete`: no message seen so far lacks one.
   */
  | { readonly kind: "large-start"; readonly bytes: Buffer; readonly ids: readonly JsonRpcId[]; readonly idsComplete: boolean }
  | { readonly kind: "large-bytes"; readonly bytes: Buffer }
  /** The last bytes of a large event, and the messages its data held. */
  | { readonly kind: "large-end"; readonly bytes: Buffer; readonly messages: readonly ScannedMessage[] };

const LF = 0x0a;
const CR = 0x0d;
const DATA_FIELD = Buffer.from("data:");

export class SseEventStream {
  /** Events up to this many bytes are handed over whole. */
  bufferLimit: number;
  #parts: Buffer[] = [];
  #size = 0;
  /** Whether the event under way has any line (a blank line alone is no event). */
  #hasLines = false;
  #atLineStart = true;
  /** The previous byte was CR: an LF right after it ends the same line. */
  #afterCR = false;
  /** The event ended with CR and its terminator may still be CRLF: held until the next byte. */
  #endPendingAtCR = false;
  // A large event: the scanner reads its data field values.
  #large = false;
  #scanner: JsonMessageScanner | undefined;
  /** The current line's first bytes, until its field name is known. */
  #fieldPrefix: number[] = [];
  /** -1: undecided; 0: not a data line; 1: a data line, value bytes go to the scanner. */
  #lineIsData = -1;
  /** The optional single space after "data:" is not part of the value. */
  #skipSpace = false;

  constructor(bufferLimit: number) {
    this.bufferLimit = bufferLimit;
  }

  push(chunk: Buffer): SseItem[] {
    const items: SseItem[] = [];
    let start = 0;
    let i = 0;
    if (this.#endPendingAtCR) {
      this.#endPendingAtCR = false;
      if (chunk.length > 0 && chunk[0] === LF) i = 1;
      this.#finishEvent(chunk.subarray(0, i), items);
      start = i;
      this.#afterCR = false;
    }
    while (i < chunk.length) {
      // Jump to the next line terminator: the bytes between are line content.
      const lf = chunk.indexOf(LF, i);
      const cr = chunk.indexOf(CR, i);
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      const contentEnd = end < 0 ? chunk.length : end;
      if (contentEnd > i) {
        this.#afterCR = false;
        this.#atLineStart = false;
        this.#hasLines = true;
        if (this.#large) this.#scanLineContent(chunk.subarray(i, contentEnd));
      }
      if (end < 0) break;
      const b = chunk[end] as number;
      i = end + 1;
      if (b === LF && this.#afterCR) {
        // The LF of a CRLF: the line already ended at its CR.
        this.#afterCR = false;
        continue;
      }
      this.#afterCR = b === CR;
      if (!this.#atLineStart) {
        this.#endLine();
        this.#atLineStart = true;
        continue;
      }
      // A blank line: the event (if any) ends here.
      if (!this.#hasLines) {
        // Blank lines between events are kept with the next event's bytes.
        continue;
      }
      if (b === CR && i === chunk.length) {
        this.#collect(chunk.subarray(start, i), items);
        start = i;
        this.#endPendingAtCR = true;
        break;
      }
      if (b === CR && chunk[i] === LF) i++;
      this.#afterCR = false;
      this.#finishEvent(chunk.subarray(start, i), items);
      start = i;
    }
    if (start < chunk.length) this.#collect(chunk.subarray(start), items);
    return items;
  }

  /** At the end of the stream: an event that never got its blank line is dropped (as EventSource does). */
  end(): SseItem[] {
    const items: SseItem[] = [];
    if (this.#endPendingAtCR) {
      this.#endPendingAtCR = false;
      this.#finishEvent(Buffer.alloc(0), items);
    } else if (this.#large) {
      // Its beginning was already relayed; without its blank line the client discards it.
      items.push({ kind: "large-end", bytes: Buffer.alloc(0), messages: this.#scanner?.messages ?? [] });
    }
    this.#reset();
    return items;
  }

  /** Bytes of the event under way: held while it fits the limit, else relayed. */
  #collect(bytes: Buffer, items: SseItem[]): void {
    if (bytes.length === 0) return;
    if (this.#large) {
      items.push({ kind: "large-bytes", bytes });
      return;
    }
    this.#parts.push(bytes);
    this.#size += bytes.length;
    if (this.#size <= this.bufferLimit) return;
    // Too large to hold: from here on it streams. Its data so far is scanned once.
    this.#large = true;
    this.#scanner = new JsonMessageScanner();
    const held = Buffer.concat(this.#parts, this.#size);
    this.#parts = [];
    this.#size = 0;
    this.#rescan(held);
    const seen = this.#scanner.idsSoFar();
    items.push({ kind: "large-start", bytes: held, ids: seen.ids, idsComplete: seen.complete });
  }

  #finishEvent(lastBytes: Buffer, items: SseItem[]): void {
    // Collected first: an event that arrived in one piece may still be over the limit.
    this.#collect(lastBytes, items);
    if (this.#large) {
      const last = items.at(-1);
      // Its final bytes went out as "large-bytes"; they end it instead.
      const bytes = last?.kind === "large-bytes" ? (items.pop(), last.bytes) : Buffer.alloc(0);
      items.push({ kind: "large-end", bytes, messages: this.#scanner?.messages ?? [] });
    } else {
      items.push({ kind: "event", raw: this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts, this.#size) });
    }
    this.#reset();
  }

  #reset(): void {
    this.#parts = [];
    this.#size = 0;
    this.#hasLines = false;
    this.#atLineStart = true;
    this.#large = false;
    this.#scanner = undefined;
    this.#fieldPrefix = [];
    this.#lineIsData = -1;
    this.#skipSpace = false;
  }

  /** The held bytes of an event that just became large, through the line reader once. */
  #rescan(held: Buffer): void {
    let i = 0;
    while (i < held.length) {
      const lf = held.indexOf(LF, i);
      const cr = held.indexOf(CR, i);
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      const contentEnd = end < 0 ? held.length : end;
      if (contentEnd > i) this.#scanLineContent(held.subarray(i, contentEnd));
      if (end < 0) break;
      // Every terminator in held bytes ends a line (the LF of a CRLF ended it at the CR).
      if (!(held[end] === LF && end > 0 && held[end - 1] === CR)) this.#endLine();
      i = end + 1;
    }
  }

  #endLine(): void {
    if (this.#large && this.#lineIsData === 1) this.#scanner?.push(NEWLINE);
    this.#fieldPrefix = [];
    this.#lineIsData = -1;
    this.#skipSpace = false;
  }

  /** Content of the current line (no terminators): data values go to the scanner. */
  #scanLineContent(bytes: Buffer): void {
    let from = 0;
    while (this.#lineIsData === -1 && from < bytes.length) {
      this.#fieldPrefix.push(bytes[from] as number);
      from++;
      const n = this.#fieldPrefix.length;
      if (this.#fieldPrefix[n - 1] !== DATA_FIELD[n - 1]) this.#lineIsData = 0;
      else if (n === DATA_FIELD.length) {
        this.#lineIsData = 1;
        this.#skipSpace = true;
      }
    }
    if (this.#lineIsData !== 1 || from >= bytes.length) return;
    if (this.#skipSpace) {
      this.#skipSpace = false;
      if (bytes[from] === 0x20) from++;
    }
    this.#scanner?.push(bytes.subarray(from));
  }
}

const NEWLINE = Buffer.from("\n");
