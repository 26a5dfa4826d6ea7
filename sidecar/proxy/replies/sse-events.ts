// One Server-Sent Event read from its bytes (sse-event-stream.ts splits a stream into
// them). An event keeps its raw text: one the sidecar does not change is relayed byte for
// byte, with its id, retry and comment lines; only a rewritten event is re-formed.

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

const decoder = new TextDecoder("utf-8");

/** An event's fields, from its raw bytes (blank lines before it and its own blank line included). */
export function parseSseEvent(raw: Uint8Array): SseEvent {
  const text = decoder.decode(raw);
  const lines = text.split(/\r\n|\r|\n/).filter((line) => line !== "");
  return makeEvent(text, lines);
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

function splitField(line: string): { field: string; value: string } {
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
