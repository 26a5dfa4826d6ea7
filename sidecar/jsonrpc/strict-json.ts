// Strict JSON for messages the sidecar decides on. The decision and the forwarded bytes
// come from this one parse (ARCHITECTURE.md "Invariants"), so anything two parsers could
// read two ways is refused instead of guessed at:
//   - duplicate keys, at any depth, compared after unescaping ("n\u0061me" is "name");
//   - keys equal but for case ("name" / "Name", also "ſ" / "s" and "K" / "k"): Go's
//     encoding/json, for one, matches struct fields case-insensitively and keeps the last;
//   - escaped lone surrogates ("\ud800"), which some decoders keep and others turn into
//     U+FFFD, so one tool name could be two;
//   - nesting deeper than a limit;
//   - the key "__proto__" (however escaped): JSON.parse makes it an own property, but any
//     JavaScript that copies or merges the object (Object.assign, a `for…in` copy into {})
//     turns it into the object's prototype, so a policy's check and a server written in
//     JavaScript could see different arguments — and it is the lever of prototype pollution.
// No well-kept npm parser rejects duplicate keys (the few that do are unmaintained
// validators much slower than JSON.parse), so this is a single pass that finds the
// structure (strings, keys, depth) and then hands the text to JSON.parse for the values.
// The scan only has to tokenise valid JSON exactly as JSON.parse does; any grammar error
// it lets pass (a bad number, a control character in a string) JSON.parse rejects.

export const DEFAULT_MAX_DEPTH = 64;

export type StrictJsonResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
const LOWER_U = 0x75;
// Up to this many keys an object's keys are compared by a linear scan, cheaper than a Set.
const LINEAR_KEY_LIMIT = 12;

class StrictJsonError extends Error {}

export function parseStrictJson(text: string, maxDepth: number = DEFAULT_MAX_DEPTH): StrictJsonResult {
  const problem = strictJsonProblem(text, maxDepth);
  if (problem !== undefined) return { ok: false, problem };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, problem: error instanceof Error ? error.message : "invalid JSON" };
  }
}

/**
 * What keeps text from being strict JSON (a duplicate key, too deep, ...), or undefined:
 * the scan alone, without parsing the values. Only for text JSON.parse has accepted
 * already (a server message the sidecar has parsed): the scan leaves some grammar to it.
 */
export function strictJsonProblem(text: string, maxDepth: number = DEFAULT_MAX_DEPTH): string | undefined {
  try {
    const end = scanValue(text, skipWhitespace(text, 0), 1, maxDepth);
    if (skipWhitespace(text, end) !== text.length) throw new StrictJsonError("unexpected text after the JSON value");
    return undefined;
  } catch (error) {
    if (error instanceof StrictJsonError) return error.message;
    throw error;
  }
}

function skipWhitespace(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

/** Returns the index just past the value starting at `at`. */
function scanValue(text: string, at: number, depth: number, maxDepth: number): number {
  const c = text.charCodeAt(at);
  if (c === QUOTE) return scanString(text, at, false).end;
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    if (depth > maxDepth) throw new StrictJsonError(`nesting deeper than ${maxDepth} levels`);
    return c === OPEN_OBJECT ? scanObject(text, at, depth, maxDepth) : scanArray(text, at, depth, maxDepth);
  }
  if (Number.isNaN(c)) throw new StrictJsonError("unexpected end of input");
  // A number or a literal: skip its characters; JSON.parse checks their spelling.
  let i = at;
  for (;;) {
    const d = text.charCodeAt(i);
    if ((d >= 0x30 && d <= 0x39) || (d >= 0x61 && d <= 0x7a) || d === 0x2d || d === 0x2b || d === 0x2e || (d >= 0x41 && d <= 0x5a)) i++;
    else break;
  }
  if (i === at) throw new StrictJsonError(`unexpected character at position ${at}`);
  return i;
}

function scanObject(text: string, at: number, depth: number, maxDepth: number): number {
  let i = skipWhitespace(text, at + 1);
  if (text.charCodeAt(i) === CLOSE_OBJECT) return i + 1;
  let keys: string[] | Set<string> = [];
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) throw new StrictJsonError(`expected a key at position ${i}`);
    const key = scanString(text, i, true);
    if (key.value === "__proto__") throw new StrictJsonError('the key "__proto__" is refused: JavaScript code could read it as the object\'s prototype');
    const folded = foldKey(key.value);
    if (Array.isArray(keys)) {
      if (keys.includes(folded)) throw duplicateKey(key.value);
      keys.push(folded);
      if (keys.length > LINEAR_KEY_LIMIT) keys = new Set(keys);
    } else {
      if (keys.has(folded)) throw duplicateKey(key.value);
      keys.add(folded);
    }
    i = skipWhitespace(text, key.end);
    if (text.charCodeAt(i) !== COLON) throw new StrictJsonError(`expected ':' at position ${i}`);
    i = skipWhitespace(text, scanValue(text, skipWhitespace(text, i + 1), depth + 1, maxDepth));
    const c = text.charCodeAt(i);
    if (c === CLOSE_OBJECT) return i + 1;
    if (c !== COMMA) throw new StrictJsonError(`expected ',' or '}' at position ${i}`);
    i = skipWhitespace(text, i + 1);
  }
}

function scanArray(text: string, at: number, depth: number, maxDepth: number): number {
  let i = skipWhitespace(text, at + 1);
  if (text.charCodeAt(i) === CLOSE_ARRAY) return i + 1;
  for (;;) {
    i = skipWhitespace(text, scanValue(text, i, depth + 1, maxDepth));
    const c = text.charCodeAt(i);
    if (c === CLOSE_ARRAY) return i + 1;
    if (c !== COMMA) throw new StrictJsonError(`expected ',' or ']' at position ${i}`);
    i = skipWhitespace(text, i + 1);
  }
}

/** A string's end, and its value only when the caller needs it (keys). */
interface ScannedString {
  readonly end: number;
  readonly value: string;
}

function scanString(text: string, at: number, wantValue: boolean): ScannedString {
  let i = at + 1;
  let escaped = false;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) break;
    if (Number.isNaN(c)) throw new StrictJsonError("unterminated string");
    if (c === BACKSLASH) {
      escaped = true;
      if (text.charCodeAt(i + 1) === LOWER_U) {
        const unit = hexUnit(text, i + 2);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          // A high surrogate must be followed by an escaped low surrogate.
          const next = text.charCodeAt(i + 6) === BACKSLASH && text.charCodeAt(i + 7) === LOWER_U ? hexUnit(text, i + 8) : -1;
          if (next < 0xdc00 || next > 0xdfff) throw new StrictJsonError(`lone surrogate escape at position ${i}`);
          i += 12;
          continue;
        }
        if (unit >= 0xdc00 && unit <= 0xdfff) throw new StrictJsonError(`lone surrogate escape at position ${i}`);
        i += 6;
        continue;
      }
      i += 2;
      continue;
    }
    i++;
  }
  if (!wantValue) return { end: i + 1, value: "" };
  const raw = text.slice(at, i + 1);
  let value: string;
  if (!escaped) {
    value = raw.slice(1, -1);
  } else {
    try {
      value = JSON.parse(raw) as string;
    } catch {
      throw new StrictJsonError(`invalid string at position ${at}`);
    }
  }
  return { end: i + 1, value };
}

function hexUnit(text: string, at: number): number {
  const digits = text.slice(at, at + 4);
  if (!/^[0-9a-fA-F]{4}$/.test(digits)) throw new StrictJsonError(`invalid \\u escape at position ${at - 2}`);
  return Number.parseInt(digits, 16);
}

/**
 * Keys that some decoder could take for one another. Lower-casing alone misses
 * characters whose upper case folds elsewhere ("ſ" → "S" → "s"), so non-ASCII keys go
 * through both; a false match (e.g. "ß" and "ss") refuses a message, never admits one.
 */
function foldKey(key: string): string {
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) > 0x7f) return key.toUpperCase().toLowerCase();
  }
  return key.toLowerCase();
}

function duplicateKey(key: string): StrictJsonError {
  return new StrictJsonError(`duplicate key ${JSON.stringify(key)} (keys must differ by more than case)`);
}
