// Server-Sent Events read incrementally, one event at a time as bytes arrive, so each
// event can be decided on and relayed at once (nothing waits for the stream to end).
// An event keeps its raw text: one the sidecar does not change is relayed byte for byte,
// with its id, retry and comment lines; only a rewritten event is re-formed.

export interface SseEvent {
  /** The event as received, blank line included. */
  readonly raw: string;
  /** Its lines, without line terminators. */
  readonly lines: readonly string[];
  /** The `event:` field, "message" when absent. */
  readonly type: string;
  /** The `data:` lines joined with "\n"; undefined when there is none. */
  readonly data: string | undefined;
}

export class SseParser {
  readonly #decoder = new TextDecoder("utf-8");
  #buffer = "";
  #lines: string[] = [];
  #raw = "";
  #scanned = 0;

  /** The events completed by this chunk. */
  push(chunk: Uint8Array): SseEvent[] {
    this.#buffer += this.#decoder.decode(chunk, { stream: true });
    return this.#drain(false);
  }

  /** At end of stream: an event missing its blank line is discarded, as EventSource does. */
  end(): SseEvent[] {
    this.#buffer += this.#decoder.decode();
    return this.#drain(true);
  }

  #drain(final: boolean): SseEvent[] {
    const events: SseEvent[] = [];
    const buffer = this.#buffer;
    let at = 0;
    // The buffer's first #scanned characters hold no line terminator: a long line that
    // arrives in many chunks is searched once, not once per chunk.
    const scanned = this.#scanned;
    let cr = -2;
    let rest = buffer.length;
    for (;;) {
      const from = Math.max(at, scanned);
      const lf = buffer.indexOf("\n", from);
      if (cr !== -1 && cr < from) cr = buffer.indexOf("\r", from);
      let lineEnd: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        // "\r" at the end of what has arrived may be the first half of "\r\n".
        if (cr + 1 === buffer.length && !final) {
          rest = cr;
          break;
        }
        lineEnd = cr;
        next = buffer.charCodeAt(cr + 1) === 0x0a ? cr + 2 : cr + 1;
      } else if (lf !== -1) {
        lineEnd = lf;
        next = lf + 1;
      } else {
        break;
      }
      const line = buffer.slice(at, lineEnd);
      this.#raw += buffer.slice(at, next);
      at = next;
      if (line === "") {
        if (this.#lines.length > 0) events.push(makeEvent(this.#raw, this.#lines));
        this.#lines = [];
        this.#raw = "";
      } else {
        this.#lines.push(line);
      }
    }
    this.#buffer = buffer.slice(at);
    this.#scanned = Math.max(0, rest - at);
    return events;
  }
}

function makeEvent(raw: string, lines: readonly string[]): SseEvent {
  let type = "message";
  let data: string | undefined;
  for (const line of lines) {
    const { field, value } = splitField(line);
    if (field === "event") type = value;
    else if (field === "data") data = data === undefined ? value : `${data}\n${value}`;
  }
  return { raw, lines, type, data };
}

export function splitField(line: string): { field: string; value: string } {
  const colon = line.indexOf(":");
  if (colon < 0) return { field: line, value: "" };
  const value = line.charCodeAt(colon + 1) === 0x20 ? line.slice(colon + 2) : line.slice(colon + 1);
  return { field: line.slice(0, colon), value };
}

/** The event with its data replaced: other lines kept in place, one data line where the first was. */
export function replaceEventData(event: SseEvent, data: string): string {
  let out = "";
  let written = false;
  for (const line of event.lines) {
    if (splitField(line).field === "data") {
      if (!written) out += `data: ${data}\n`;
      written = true;
    } else {
      out += `${line}\n`;
    }
  }
  if (!written) out += `data: ${data}\n`;
  return `${out}\n`;
}
