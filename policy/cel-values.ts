// JSON values (tool arguments, JWT claims) as CEL inputs.
//
// @bufbuild/cel converts a plain object by reading `value.constructor.name`, so an
// argument object with its own `constructor` key, or one without a prototype, becomes an
// evaluation error rather than a map. Wrapping objects in this Map view avoids that and is
// lazy: a nested object is wrapped only when the expression reaches it, so a huge
// argument costs nothing unless the condition walks it.

/** A JSON object seen as a read-only CEL map (only own enumerable string keys). */
class JsonObjectMap extends Map<string, unknown> {
  readonly #object: Readonly<Record<string, unknown>>;

  constructor(object: Readonly<Record<string, unknown>>) {
    super();
    this.#object = object;
  }

  override get(key: string): unknown {
    return typeof key === "string" && Object.hasOwn(this.#object, key) ? celJsonValue(this.#object[key]) : undefined;
  }

  override has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  override keys(): MapIterator<string> {
    return Object.keys(this.#object)[Symbol.iterator]();
  }

  override *values(): MapIterator<unknown> {
    for (const key of Object.keys(this.#object)) yield this.get(key);
  }

  override *entries(): MapIterator<[string, unknown]> {
    for (const key of Object.keys(this.#object)) yield [key, this.get(key)];
  }

  override [Symbol.iterator](): MapIterator<[string, unknown]> {
    return this.entries();
  }

  override forEach(callback: (value: unknown, key: string, map: Map<string, unknown>) => void, thisArg?: unknown): void {
    for (const key of Object.keys(this.#object)) callback.call(thisArg, this.get(key), key, this);
  }

  objectSize(): number {
    return Object.keys(this.#object).length;
  }
}

// Map's `size` is an accessor on Map.prototype reading internal slots this view leaves empty.
Object.defineProperty(JsonObjectMap.prototype, "size", {
  get(this: JsonObjectMap) {
    return this.objectSize();
  },
});

/**
 * The CEL input for a JSON value: objects become lazy maps, arrays are copied one level
 * (their object elements wrapped), other values pass through. Values JSON cannot hold
 * become undefined, which CEL sees as a missing field.
 */
export function celJsonValue(value: unknown): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : undefined;
    case "object":
      if (value === null) return null;
      if (Array.isArray(value)) return value.map(celJsonValue);
      return new JsonObjectMap(value as Record<string, unknown>);
    default:
      return undefined;
  }
}
