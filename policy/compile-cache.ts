// Argument schemas and CEL conditions compiled once per distinct source. Reading a
// bundle reads every policy (which compiles it, to find its problems) and then compiles
// the policies together: without this the second pass compiled every schema and
// condition again, and each policy read built its own ajv. A validator or a planned
// condition keeps no state between calls (check() reads ajv's `errors` right after its
// own call), so rules with the same source may share one.

import type { ArgumentSchemaResult } from "./argument-schema.ts";
import type { ConditionResult } from "./cel-condition.ts";
import { NO_ENGINES, type PolicyEngines } from "./policy-engines.ts";

const NO_SCHEMA_ENGINE: ArgumentSchemaResult = { ok: false, message: "cannot be compiled here: the JSON Schema engine is not loaded" };
const NO_CONDITION_ENGINE: ConditionResult = { ok: false, message: "cannot be compiled here: the CEL engine is not loaded" };

export class CompileCache {
  /** The engines this pass compiles with; the compiled table keeps them (server schemas are compiled later). */
  readonly engines: PolicyEngines;
  readonly #schemas = new Map<string, ArgumentSchemaResult>();
  readonly #conditions = new Map<string, ConditionResult>();

  /** `engines`: long-lived ones, so a new pass does not start a new ajv (policy/policy-engines.ts). */
  constructor(engines: PolicyEngines = NO_ENGINES) {
    this.engines = engines;
  }

  schema(schema: unknown): ArgumentSchemaResult {
    const engine = this.engines.schemas;
    if (engine === undefined) return NO_SCHEMA_ENGINE;
    const key = schemaKey(schema);
    const known = key === undefined ? undefined : this.#schemas.get(key);
    if (known !== undefined) return known;
    const result = engine.compileArguments(schema);
    if (key !== undefined) this.#schemas.set(key, result);
    return result;
  }

  condition(source: string): ConditionResult {
    const engine = this.engines.conditions;
    if (engine === undefined) return NO_CONDITION_ENGINE;
    let result = this.#conditions.get(source);
    if (result === undefined) {
      result = engine.compile(source);
      this.#conditions.set(source, result);
    }
    return result;
  }
}

/**
 * The schema's JSON text, or undefined unless it is plain JSON (a YAML `.inf` or a
 * caller's `undefined` would print like something else): then it is compiled unshared.
 */
function schemaKey(schema: unknown): string | undefined {
  try {
    return JSON.stringify(schema, plainJsonOnly);
  } catch {
    return undefined;
  }
}

function plainJsonOnly(this: unknown, key: string, value: unknown): unknown {
  // Before any toJSON: a YAML timestamp (a Date) must not key like its text.
  const original = (this as Record<string, unknown>)[key];
  if (original === null || typeof original === "string" || typeof original === "boolean") return value;
  if (typeof original === "number" && Number.isFinite(original)) return value;
  if (typeof original === "object" && (Array.isArray(original) || Object.getPrototypeOf(original) === Object.prototype || Object.getPrototypeOf(original) === null)) return value;
  throw new Error("not plain JSON");
}
