import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { replaceEventData, SseParser } from "./sse-parser.ts";

const STREAM = "id: 1\nretry: 500\ndata: \n\n: keepalive\n\nevent: message\ndata: {\"a\":1}\n\nevent: endpoint\r\ndata: /messages?x=1\r\n\r\ndata: line1\rdata: line2\r\rdata: ünïcode ✓\n\n";

function parseInChunks(text: string, cuts: number[]): ReturnType<SseParser["push"]> {
  const bytes = Buffer.from(text);
  const parser = new SseParser();
  const events = [];
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    events.push(...parser.push(bytes.subarray(at, cut)));
    at = cut;
  }
  events.push(...parser.push(bytes.subarray(at)), ...parser.end());
  return events;
}

describe("SseParser", () => {
  it("reads events with their fields and keeps each event's raw text", () => {
    const events = parseInChunks(STREAM, []);
    expect(events.map((event) => [event.type, event.data])).toEqual([
      ["message", ""],
      ["message", undefined],
      ["message", '{"a":1}'],
      ["endpoint", "/messages?x=1"],
      ["message", "line1\nline2"],
      ["message", "ünïcode ✓"],
    ]);
    expect(events.map((event) => event.raw).join("")).toBe(STREAM);
  });

  it("gives the same events however the bytes are split (seed 7)", () => {
    const whole = parseInChunks(STREAM, []);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: Buffer.byteLength(STREAM) }), { maxLength: 12 }), (cuts) => {
        expect(parseInChunks(STREAM, cuts)).toEqual(whole);
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it("drops an event the stream ends in the middle of", () => {
    expect(parseInChunks("data: complete\n\ndata: cut off", [])).toHaveLength(1);
  });

  it("replaces data and keeps the other lines", () => {
    const [event] = parseInChunks("id: 7\nevent: message\ndata: old\n\n", []);
    expect(replaceEventData(event!, "new")).toBe("id: 7\nevent: message\ndata: new\n\n");
  });
});
