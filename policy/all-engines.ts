// Every engine, loaded with this module: for processes that compile arbitrary policies all
// the time (the operator, the CLI, tests, benchmarks). The sidecar instead loads each
// engine when its policies first need it (sidecar/policy-source/policy-engine-loader.ts).

import { celConditionEngine } from "./cel-condition.ts";
import { createJsonSchemaEngine } from "./json-schema-engine.ts";
import type { PolicyEngines } from "./policy-engines.ts";

/** A new set (its own ajv instances): keep one per long-lived user. */
export function allPolicyEngines(): PolicyEngines {
  return { conditions: celConditionEngine, schemas: createJsonSchemaEngine() };
}
