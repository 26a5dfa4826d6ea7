// The MCP server's own inputSchema for a tool (spec.validateServerSchema), compiled to
// check a call's arguments. The dialect is chosen by `$schema`: JSON Schema 2020-12 when
// it is absent (MCP's default) or names 2020-12, draft-07 when it names draft-07; any
// other dialect is refused, and so is a schema that does not compile — with RE2 running
// `pattern` (a backreference or lookaround does not compile), and no reference outside
// the schema ever fetched (there is no loader; such a `$ref` does not compile either).
// Unlike a policy's `arguments`, unknown keywords and formats are ignored, as JSON Schema
// says of annotations: servers write them (`title`, `examples`, vendor keywords).
//
// Pure: the sidecar compiles a listed tool's schema with this (once per definition) and
// hands the result to evaluateCall as part of the call (ToolCall.listed).

import { Ajv } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import { ArgumentSchemaCompiler, schemaOptions, withFormats, type ArgumentSchemaResult } from "./argument-schema.ts";

export type ServerSchemaDialect = "2020-12" | "draft-07";

/** Each meta-schema URI with either scheme, with or without an empty fragment. */
const DIALECTS: ReadonlyMap<string, ServerSchemaDialect> = new Map(
  (
    [
      ["json-schema.org/draft/2020-12/schema", "2020-12"],
      ["json-schema.org/draft-07/schema", "draft-07"],
    ] as const
  ).flatMap(([uri, dialect]) => ["http://", "https://"].flatMap((scheme) => [`${scheme}${uri}`, `${scheme}${uri}#`].map((key) => [key, dialect] as const))),
);

/** The dialect `$schema` names, or why it names none this supports. */
export function serverSchemaDialect(schema: unknown): { ok: true; dialect: ServerSchemaDialect } | { ok: false; message: string } {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    return { ok: false, message: "it is not a JSON Schema object" };
  }
  if (!Object.hasOwn(schema, "$schema")) return { ok: true, dialect: "2020-12" };
  const declared: unknown = (schema as Record<string, unknown>)["$schema"];
  const dialect = typeof declared === "string" ? DIALECTS.get(declared) : undefined;
  if (dialect !== undefined) return { ok: true, dialect };
  const shown = JSON.stringify(declared)?.slice(0, 120) ?? String(declared);
  return { ok: false, message: `its $schema ${shown} is not a dialect the sidecar checks (JSON Schema 2020-12, the default, or draft-07)` };
}

/** Compiles server schemas of both dialects; one per sidecar (each ajv keeps what it compiled, see ArgumentSchemaCompiler). */
export class ServerSchemaCompiler {
  readonly #compilers: Readonly<Record<ServerSchemaDialect, ArgumentSchemaCompiler>> = {
    "2020-12": new ArgumentSchemaCompiler(() => withFormats(new Ajv2020(schemaOptions(false)))),
    "draft-07": new ArgumentSchemaCompiler(() => withFormats(new Ajv(schemaOptions(false)))),
  };

  /** A listed tool's inputSchema; `undefined` (the server listed none) cannot be checked. */
  compile(schema: unknown): ArgumentSchemaResult {
    if (schema === undefined) return { ok: false, message: "the server listed no inputSchema for it" };
    const dialect = serverSchemaDialect(schema);
    if (!dialect.ok) return dialect;
    // The dialect is chosen: without `$schema` ajv checks the schema against its own
    // meta-schema, whichever spelling of the URI the server wrote.
    const { $schema: _declared, ...rest } = schema as Record<string, unknown>;
    const result = this.#compilers[dialect.dialect].compile(rest);
    return result.ok ? result : { ok: false, message: `as JSON Schema ${dialect.dialect}, it ${result.message}` };
  }
}
