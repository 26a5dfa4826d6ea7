// What compiling a policy may need beyond plain code: a CEL engine for `when` conditions
// and a JSON Schema engine for `arguments` and the servers' own schemas. Both are large
// (docs/architecture.md "What the sidecar loads"), and most policies use neither, so the
// caller loads them when a policy needs them and hands them over: policy/ stays pure and
// synchronous, and a sidecar whose policies need neither never loads them. Without the
// engine a policy needs, compiling it fails with a problem saying so (fail closed).

import type { ArgumentSchemaResult } from "./argument-schema.ts";
import type { ConditionResult } from "./cel-condition.ts";

/** Compiles `when` conditions (CEL). */
export interface ConditionEngine {
  compile(source: string): ConditionResult;
}

/** Compiles JSON Schemas: a rule's `arguments` (strict 2020-12) and a server's inputSchema (its dialect). */
export interface SchemaEngine {
  compileArguments(schema: unknown): ArgumentSchemaResult;
  compileServerSchema(schema: unknown): ArgumentSchemaResult;
}

export interface PolicyEngines {
  readonly conditions?: ConditionEngine;
  readonly schemas?: SchemaEngine;
}

export const NO_ENGINES: PolicyEngines = Object.freeze({});

export interface EngineNeeds {
  /** A `when` condition somewhere. */
  readonly conditions: boolean;
  /** An `arguments` schema, or `validateServerSchema`. */
  readonly schemas: boolean;
}

/** Deeper than any policy document; a deeper value needs nothing more (reading refuses it). */
const MAX_SCAN_DEPTH = 64;

/**
 * Which engines compiling these values (parsed policy documents, a bundle) would need.
 * A structural scan that over-approximates: a `when` or `arguments` key anywhere counts,
 * so a policy the reader then refuses may load an engine it did not need; never the
 * other way round.
 */
export function policyEngineNeeds(values: Iterable<unknown>): EngineNeeds {
  let conditions = false;
  let schemas = false;
  const visit = (value: unknown, depth: number): void => {
    if (depth > MAX_SCAN_DEPTH || typeof value !== "object" || value === null || (conditions && schemas)) return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    for (const [key, inner] of Object.entries(value)) {
      if (key === "when") conditions = true;
      else if (key === "arguments" || (key === "validateServerSchema" && inner === true)) schemas = true;
      visit(inner, depth + 1);
    }
  };
  for (const value of values) visit(value, 0);
  return { conditions, schemas };
}

/** The engines in `have` cover `needs`. */
export function enginesCover(have: PolicyEngines, needs: EngineNeeds): boolean {
  return (!needs.conditions || have.conditions !== undefined) && (!needs.schemas || have.schemas !== undefined);
}
