// The JSON Schema engine (ajv, its formats, RE2 for patterns): one per process that
// compiles policies, so the meta-schemas are compiled once, not per read.

import { ArgumentSchemaCompiler } from "./argument-schema.ts";
import type { SchemaEngine } from "./policy-engines.ts";
import { ServerSchemaCompiler } from "./server-schema.ts";

export function createJsonSchemaEngine(): SchemaEngine {
  const argumentSchemas = new ArgumentSchemaCompiler();
  const serverSchemas = new ServerSchemaCompiler();
  return {
    compileArguments: (schema) => argumentSchemas.compile(schema),
    compileServerSchema: (schema) => serverSchemas.compile(schema),
  };
}
