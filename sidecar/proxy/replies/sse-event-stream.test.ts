import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JsonMessageScanner } from "./json-message-scanner.ts";
import { SseEventStream, type SseItem } from "./sse-event-stream.ts";
import { parseSseEvent, replaceEventData, type SseEvent } from "./sse-events.ts";

const STREAM = "id: 1\nretry: 500\ndata: \n\n: keepalive\n\nevent: message\ndata: {\"a\":1}\n\nevent: endpoint\r\ndata: /messages?x=1\r\n\r\ndata: line1\rdata: line2\r\rdata: ünïcode ✓\n\n";

function split(text: string | Buffer, cuts: number[], bufferLimit = 1 << 20): SseItem[] {
  const bytes = typeof text === "string" ? Buffer.from(text) : text;
  const stream = new SseEventStream(bufferLimit);
  const items: SseItem[] = [];
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    items.push(...stream.push(bytes.subarray(at, cut)));
    at = cut;
  }
  items.push(...stream.push(bytes.subarray(at)), ...stream.end());
  return items;
}

function events(items: readonly SseItem[]): SseEvent[] {
  return items.flatMap((item) => (item.kind === "event" ? [parseSseEvent(item.raw)] : []));
}

/** Every byte handed over, in order. */
function relayed(items: readonly SseItem[]): string {
  return Buffer.concat(items.map((item) => (item.kind === "event" ? item.raw : item.bytes))).toString("utf8");
}

describe("SseEventStream", () => {
  it("hands over whole events with their fields, every byte kept", () => {
    const items = split(STREAM, []);
    expect(events(items).map((event) => [event.type, event.data])).toEqual([
      ["message", ""],
      ["message", undefined],
      ["message", '{"a":1}'],
      ["endpoint", "/messages?x=1"],
      ["message", "line1\nline2"],
      ["message", "ünïcode ✓"],
    ]);
    expect(relayed(items)).toBe(STREAM);
  });

  it("gives the same events however the bytes are split (seed 7)", () => {
    const whole = events(split(STREAM, []));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: Buffer.byteLength(STREAM) }), { maxLength: 12 }), (cuts) => {
        const items = split(STREAM, cuts);
        expect(events(items)).toEqual(whole);
        expect(relayed(items)).toBe(STREAM);
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it("drops an event the stream ends in the middle of", () => {
    expect(events(split("data: complete\n\ndata: cut off", []))).toHaveLength(1);
  });

  it("relays an event over the limit in pieces and scans the ids of its messages (seed 11)", () => {
    const big = "x".repeat(5000);
    const stream = `data: {"jsonrpc":"2.0","result":{"content":[{"type":"text","text":"${big}"}]},"id":"call-7"}\n\nid: 2\ndata: {"jsonrpc":"2.0","id":8,\ndata: "result":{}}\n\n`;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: Buffer.byteLength(stream) }), { maxLength: 8 }), (cuts) => {
        const items = split(stream, cuts, 1024);
        expect(relayed(items)).toBe(stream);
        const ends = items.filter((item) => item.kind === "large-end");
        expect(ends).toHaveLength(1);
        expect(ends[0]?.kind === "large-end" ? ends[0].messages : []).toEqual([{ id: "call-7", hasMethod: false }]);
        // The small event after it is whole again.
        expect(events(items).map((event) => event.data)).toEqual(['{"jsonrpc":"2.0","id":8,\n"result":{}}']);
        // Nothing of the large event is held at once beyond the limit plus one chunk.
        for (const item of items) if (item.kind !== "event") expect(item.bytes.length).toBeLessThanOrEqual(1024 + stream.length);
      }),
      { seed: 11, numRuns: 300 },
    );
  });

  it("replaces data and keeps the other lines", () => {
    const [event] = events(split("id: 7\nevent: message\ndata: old\n\n", []));
    expect(replaceEventData(event!, "new")).toBe("id: 7\nevent: message\ndata: new\n\n");
  });
});

describe("JsonMessageScanner", () => {
  const scan = (text: string, cuts: number[] = []): unknown => {
    const scanner = new JsonMessageScanner();
    const bytes = Buffer.from(text);
    let at = 0;
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      scanner.push(bytes.subarray(at, cut));
      at = cut;
    }
    scanner.push(bytes.subarray(at));
    return scanner.messages;
  };

  it("finds the id of a message wherever it stands, not ids nested inside it", () => {
    expect(scan('{"result":{"id":"inner","x":[{"id":3}]},"jsonrpc":"2.0","id":42}')).toEqual([{ id: 42, hasMethod: false }]);
    expect(scan('{ "id" : "a\\"b" , "method":"notifications/x"}')).toEqual([{ id: 'a"b', hasMethod: true }]);
    expect(scan('{"jsonrpc":"2.0","method":"notifications/progress","params":{"id":1}}')).toEqual([{ id: undefined, hasMethod: true }]);
    expect(scan('{"\\u0069d":7,"result":{}}')).toEqual([{ id: 7, hasMethod: false }]);
  });

  it("reads each message of a batch, however the bytes are split (seed 5)", () => {
    const text = '[{"id":1,"result":{"s":"}]{\\\\"}},{"jsonrpc":"2.0","error":{"code":1,"message":"x"},"id":"two"}, {"method":"m","id":null}]';
    const expected = [
      { id: 1, hasMethod: false },
      { id: "two", hasMethod: false },
      { id: undefined, hasMethod: true },
    ];
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 6 }), (cuts) => {
        expect(scan(text, cuts)).toEqual(expected);
      }),
      { seed: 5, numRuns: 300 },
    );
  });
});
