// The ids of the JSON-RPC messages in a JSON text that is too large to hold, read as its
// bytes stream past: one pass, constant memory. The sidecar relays such a text without
// keeping it (a large tool result) and still needs to know which requests it answered.
// No streaming JSON parser on npm fits: they build every string value they meet, and one
// string here may be hundreds of megabytes. This one only tracks nesting, strings and the
// top-level keys of each message, and keeps the value of `id` (a short primitive).
//
// Invalid JSON is not diagnosed: the result then is whatever the scan saw, and the caller
// treats ids as a hint (which requests were answered), never as a decision.

import type { JsonRpcId } from "../../jsonrpc/message.ts";

export interface ScannedMessage {
  /** The message's id, when it had a string or number one. */
  readonly id: JsonRpcId | undefined;
  /** Whether it had a `method` (a request or notification, not a response). */
  readonly hasMethod: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
/** A key or an id longer than this is not one the scanner needs. */
const MAX_CAPTURE = 256;

type MemberState = "key" | "colon" | "value" | "next";

export class JsonMessageScanner {
  #depth = 0;
  /** The depth of a message's members: 1 for a single message, 2 inside a batch. */
  #messageDepth = 1;
  #started = false;
  #inString = false;
  #escaped = false;
  #state: MemberState = "key";
  /** Bytes of the key or id value being read at message depth; undefined: not capturing. */
  #capture: number[] | undefined;
  #captureIsKey = false;
  #key: string | undefined;
  #id: JsonRpcId | undefined;
  #hasMethod = false;
  readonly #messages: ScannedMessage[] = [];

  /** The messages completed so far. */
  get messages(): readonly ScannedMessage[] {
    return this.#messages;
  }

  /** The ids seen so far: of every completed message, and of the one under way once read. */
  idsSoFar(): { readonly ids: readonly JsonRpcId[]; readonly complete: boolean } {
    const ids: JsonRpcId[] = [];
    let complete = true;
    for (const message of this.#messages) {
      if (message.id !== undefined) ids.push(message.id);
      else if (!message.hasMethod) complete = false;
    }
    const inMessage = this.#depth >= this.#messageDepth && this.#started;
    if (inMessage) {
      if (this.#id !== undefined) ids.push(this.#id);
      else if (!this.#hasMethod) complete = false;
    }
    return { ids, complete };
  }

  push(bytes: Uint8Array): void {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let i = 0;
    while (i < buffer.length) {
      // Inside a string nobody reads (most of a large text), only a quote or a backslash
      // matters: jump to the next one natively instead of walking every byte.
      if (this.#inString && !this.#escaped && this.#capture === undefined) {
        const quote = buffer.indexOf(QUOTE, i);
        const backslash = buffer.indexOf(BACKSLASH, i);
        const next = quote < 0 ? backslash : backslash < 0 ? quote : Math.min(quote, backslash);
        if (next < 0) return;
        i = next;
      }
      this.#byte(buffer[i] as number);
      i++;
    }
  }

  #byte(b: number): void {
    if (this.#inString) {
      if (this.#capture !== undefined && this.#capture.length <= MAX_CAPTURE) this.#capture.push(b);
      if (this.#escaped) this.#escaped = false;
      else if (b === BACKSLASH) this.#escaped = true;
      else if (b === QUOTE) {
        this.#inString = false;
        this.#endStringCapture();
      }
      return;
    }
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) {
      this.#endPrimitiveCapture();
      return;
    }
    const atMessage = this.#depth === this.#messageDepth;
    switch (b) {
      case QUOTE:
        this.#inString = true;
        if (atMessage && this.#state === "key") {
          this.#capture = [b];
          this.#captureIsKey = true;
        } else if (atMessage && this.#state === "value" && this.#key === "id") {
          this.#capture = [b];
          this.#captureIsKey = false;
        }
        return;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        if (!this.#started) {
          this.#started = true;
          if (b === OPEN_ARRAY) this.#messageDepth = 2;
        }
        this.#depth++;
        if (this.#depth === this.#messageDepth && b === OPEN_OBJECT) this.#beginMessage();
        if (atMessage) this.#state = "next";
        return;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        this.#endPrimitiveCapture();
        if (this.#depth === this.#messageDepth && b === CLOSE_OBJECT) this.#endMessage();
        this.#depth--;
        return;
      case COLON:
        if (atMessage) this.#state = "value";
        return;
      case COMMA:
        this.#endPrimitiveCapture();
        if (atMessage) {
          this.#state = "key";
          this.#key = undefined;
        }
        return;
      default:
        // A number or literal: the id's value when it follows the key "id".
        if (atMessage && this.#state === "value") {
          if (this.#key === "id" && this.#capture === undefined) {
            this.#capture = [];
            this.#captureIsKey = false;
          }
          if (this.#capture !== undefined && this.#capture.length <= MAX_CAPTURE) this.#capture.push(b);
        }
    }
  }

  #beginMessage(): void {
    this.#state = "key";
    this.#key = undefined;
    this.#id = undefined;
    this.#hasMethod = false;
  }

  #endMessage(): void {
    this.#messages.push({ id: this.#id, hasMethod: this.#hasMethod });
  }

  #endStringCapture(): void {
    const capture = this.#capture;
    if (capture === undefined) return;
    this.#capture = undefined;
    const text = capture.length > MAX_CAPTURE ? undefined : decodeJson(capture);
    if (this.#captureIsKey) {
      this.#key = typeof text === "string" ? text : undefined;
      if (this.#key === "method") this.#hasMethod = true;
      this.#state = "colon";
    } else {
      if (typeof text === "string") this.#id = text;
      this.#state = "next";
    }
  }

  #endPrimitiveCapture(): void {
    const capture = this.#capture;
    if (capture === undefined || this.#inString) return;
    this.#capture = undefined;
    const value = capture.length > MAX_CAPTURE ? undefined : decodeJson(capture);
    if (typeof value === "number" && Number.isFinite(value)) this.#id = value;
    this.#state = "next";
  }
}

function decodeJson(bytes: number[]): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}
