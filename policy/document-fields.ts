// Structural reading of untyped documents (parsed YAML/JSON): each reader checks one
// field's shape, records a problem with the field's path when it is wrong, and returns
// undefined so the caller can keep going and report every other problem too.

import { fieldPath, jsonTypeOf, quoteValue, type PolicyProblem } from "./problems.ts";

export type UnknownRecord = Readonly<Record<string, unknown>>;

export class ProblemCollector {
  readonly problems: PolicyProblem[] = [];

  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  get count(): number {
    return this.problems.length;
  }
}

export function isRecord(value: unknown): value is UnknownRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function readRecord(value: unknown, path: string, out: ProblemCollector): UnknownRecord | undefined {
  if (isRecord(value)) return value;
  out.add(path, value === undefined ? "is required" : `must be an object, not ${jsonTypeOf(value)}`);
  return undefined;
}

/**
 * Reports every key not in `allowed`. `hints` maps a known mistake (a field from another
 * format, a misspelling) to advice.
 */
export function checkKnownKeys(
  record: UnknownRecord,
  allowed: readonly string[],
  path: string,
  out: ProblemCollector,
  hints: Readonly<Record<string, string>> = {},
): void {
  for (const key of Object.keys(record)) {
    if (allowed.includes(key)) continue;
    const hint = Object.hasOwn(hints, key) ? hints[key] : `allowed: ${allowed.join(", ")}`;
    out.add(fieldPath(path, key), `unknown field (${hint})`);
  }
}

export function readString(value: unknown, path: string, out: ProblemCollector): string | undefined {
  if (typeof value === "string") return value;
  out.add(path, value === undefined ? "is required" : `must be a string, not ${jsonTypeOf(value)}`);
  return undefined;
}

export function readBoolean(value: unknown, path: string, out: ProblemCollector): boolean | undefined {
  if (typeof value === "boolean") return value;
  out.add(path, value === undefined ? "is required" : `must be true or false, not ${quoteValue(value)}`);
  return undefined;
}

export function readOneOf<const T extends string>(
  value: unknown,
  choices: readonly T[],
  path: string,
  out: ProblemCollector,
): T | undefined {
  if (typeof value === "string" && (choices as readonly string[]).includes(value)) return value as T;
  out.add(path, value === undefined ? `is required (${choices.join(" | ")})` : `${quoteValue(value)} is not one of ${choices.join(" | ")}`);
  return undefined;
}

export function readArray(value: unknown, path: string, out: ProblemCollector): readonly unknown[] | undefined {
  if (Array.isArray(value)) return value;
  out.add(path, value === undefined ? "is required" : `must be a list, not ${jsonTypeOf(value)}`);
  return undefined;
}
