// `arguments`: a JSON Schema (2020-12) every call's arguments must satisfy, compiled
// once per decision table by ajv in strict mode (unknown keywords and formats and
// unresolvable `$ref`s are compile errors, never silently ignored).

import { Ajv2020, MissingRefError, type ErrorObject, type Options } from "ajv/dist/2020.js";
import type * as ajvCore from "ajv/dist/core.js";

/** The class every ajv dialect extends. */
type AjvCore = ajvCore.default;
import addFormats from "ajv-formats";
import { RE2JS } from "@bufbuild/re2";

/**
 * `pattern` and `patternProperties` run on RE2 (linear time), not JavaScript's
 * backtracking RegExp: a policy author's `^(a+)+$` must not let an agent's argument
 * stall the sidecar. RE2 has no backreferences or lookaround; such patterns fail to
 * compile and the policy is rejected with the reason.
 */
const re2Engine = Object.assign((pattern: string) => new RE2JS(pattern), { code: "RE2JS" });

const MAX_LISTED_ERRORS = 5;
const MAX_NAME_LENGTH = 64;

export interface CompiledArgumentSchema {
  /** undefined when the arguments are valid; otherwise which arguments failed and why. */
  check(args: unknown): string | undefined;
}

export type ArgumentSchemaResult = { ok: true; schema: CompiledArgumentSchema } | { ok: false; message: string };

/**
 * One ajv per decision table: ajv caches compiled code per instance, and nothing is added
 * to its registry (`addUsedSchema: false`), so two rules' `$id`s cannot clash. Remote
 * references are never fetched: there is no `loadSchema`, so they fail to compile.
 */
export function createArgumentSchemaCompiler(): Ajv2020 {
  return withFormats(new Ajv2020(schemaOptions(true)));
}

/**
 * What every schema compiler here shares: every error listed, nothing added to the
 * registry, own keys only, and `pattern` on RE2. `strict`: unknown keywords and formats
 * are errors (a policy author's typo) rather than ignored (a server's annotations).
 */
export function schemaOptions(strict: boolean): Options {
  return {
    strict,
    allErrors: true,
    addUsedSchema: false,
    // Only the data's own keys: `required: ["constructor"]` must not be met by Object.prototype.
    ownProperties: true,
    code: { regExp: re2Engine },
    // Not strict: what is ignored is ignored silently (ajv would print to the console).
    ...(strict ? {} : { logger: false }),
  };
}

/** date-time, email, uri, uuid, …: common in MCP tool schemas. */
export function withFormats<T extends AjvCore>(ajv: T): T {
  addFormats.default(ajv);
  return ajv;
}

/** Compiles per ajv before a fresh one replaces it: ajv keeps every schema it compiled. */
const COMPILES_PER_AJV = 256;

/**
 * An ajv reused across compile passes. A new ajv compiles the 2020-12 meta-schema on its
 * first schema, which costs far more (10–50 ms) than compiling a typical argument schema
 * (about 1 ms); a caller that compiles again and again (an operator validating each
 * edit, a sidecar reading each bundle) keeps one of these. ajv holds on to every schema
 * it compiled, so after COMPILES_PER_AJV compiles the next one starts a fresh ajv.
 */
export class ArgumentSchemaCompiler {
  readonly #create: () => AjvCore;
  #ajv: AjvCore | undefined;
  #compiles = 0;

  /** `create`: a new ajv (default: the policy schemas' strict 2020-12 one). */
  constructor(create: () => AjvCore = createArgumentSchemaCompiler) {
    this.#create = create;
  }

  compile(schema: unknown): ArgumentSchemaResult {
    if (this.#ajv === undefined || this.#compiles >= COMPILES_PER_AJV) {
      this.#ajv = this.#create();
      this.#compiles = 0;
    }
    this.#compiles++;
    return compileArgumentSchema(schema, this.#ajv);
  }
}

export function compileArgumentSchema(schema: unknown, compiler: AjvCore): ArgumentSchemaResult {
  if (typeof schema !== "boolean" && (typeof schema !== "object" || schema === null || Array.isArray(schema))) {
    return { ok: false, message: "must be a JSON Schema (an object or a boolean)" };
  }
  if (typeof schema === "object" && Object.hasOwn(schema, "$async")) {
    return { ok: false, message: "$async schemas are not supported (a check must be synchronous)" };
  }
  let validate: ReturnType<AjvCore["compile"]>;
  try {
    validate = compiler.compile(schema as object | boolean);
  } catch (error) {
    // No loadSchema: ajv never fetches; say so, since the message alone suggests a network error.
    const remote = error instanceof MissingRefError ? " (a $ref outside the schema is never fetched)" : "";
    return { ok: false, message: `does not compile: ${error instanceof Error ? error.message : String(error)}${remote}` };
  }
  return {
    ok: true,
    schema: {
      check(args: unknown): string | undefined {
        let valid: unknown;
        try {
          valid = validate(args);
        } catch (error) {
          return `arguments could not be checked: ${error instanceof Error ? error.message : String(error)}`;
        }
        if (valid === true) return undefined;
        return describeErrors(validate.errors ?? []);
      },
    },
  };
}

function describeErrors(errors: readonly ErrorObject[]): string {
  if (errors.length === 0) return "arguments do not match the schema";
  const listed = errors.slice(0, MAX_LISTED_ERRORS).map(describeError);
  const more = errors.length > MAX_LISTED_ERRORS ? `; and ${errors.length - MAX_LISTED_ERRORS} more` : "";
  return `${listed.join("; ")}${more}`;
}

function describeError(error: ErrorObject): string {
  const at = argumentPath(error.instancePath);
  if (error.keyword === "required" && typeof error.params["missingProperty"] === "string") {
    return `${joinPath(at, error.params["missingProperty"])}: is required`;
  }
  if (error.keyword === "additionalProperties" && typeof error.params["additionalProperty"] === "string") {
    return `${joinPath(at, error.params["additionalProperty"])}: is not an accepted argument`;
  }
  if (error.keyword === "unevaluatedProperties" && typeof error.params["unevaluatedProperty"] === "string") {
    return `${joinPath(at, error.params["unevaluatedProperty"])}: is not an accepted argument`;
  }
  return `${at === "" ? "arguments" : at}: ${error.message ?? "is not valid"}`;
}

/** `/target/0/name` → `target[0].name`, each name cut short (they come from the caller). */
function argumentPath(pointer: string): string {
  if (pointer === "") return "";
  let path = "";
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    path = /^\d+$/.test(segment) ? `${path}[${segment}]` : joinPath(path, segment);
  }
  return path;
}

function joinPath(base: string, name: string): string {
  const short = name.length > MAX_NAME_LENGTH ? `${name.slice(0, MAX_NAME_LENGTH - 3)}...` : name;
  const part = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(short) ? short : JSON.stringify(short);
  return base === "" ? part : `${base}.${part}`;
}
