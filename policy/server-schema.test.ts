import { describe, expect, it } from "vitest";
import { ServerSchemaCompiler, serverSchemaDialect } from "./server-schema.ts";

const compiler = new ServerSchemaCompiler();

function check(schema: unknown, args: unknown): string | undefined {
  const result = compiler.compile(schema);
  if (!result.ok) throw new Error(result.message);
  return result.schema.check(args);
}

const limited = { type: "object", properties: { limit: { type: "integer", maximum: 100 } }, required: ["limit"] };

describe("ServerSchemaCompiler", () => {
  it("checks arguments against JSON Schema 2020-12 when $schema is absent or names it", () => {
    expect(check(limited, { limit: 5 })).toBeUndefined();
    expect(check(limited, { limit: 500 })).toBe("limit: must be <= 100");
    expect(check({ ...limited, $schema: "https://json-schema.org/draft/2020-12/schema" }, {})).toBe("limit: is required");
    // 2020-12's prefixItems: a keyword draft-07 does not have.
    expect(check({ type: "object", properties: { pair: { type: "array", prefixItems: [{ type: "string" }, { type: "integer" }] } } }, { pair: ["a", "b"] })).toBe(
      "pair[1]: must be integer",
    );
  });

  it("checks draft-07 schemas by their $schema, with either scheme and fragment", () => {
    for (const uri of ["http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-07/schema", "https://json-schema.org/draft-07/schema#"]) {
      // draft-07's array form of items (a tuple), which 2020-12 reads another way.
      const tuple = { $schema: uri, type: "object", properties: { pair: { type: "array", items: [{ type: "string" }, { type: "integer" }] } } };
      expect(check(tuple, { pair: ["a", 1] })).toBeUndefined();
      expect(check(tuple, { pair: ["a", "b"] })).toBe("pair[1]: must be integer");
    }
    expect(serverSchemaDialect({ $schema: "http://json-schema.org/draft-07/schema#" })).toEqual({ ok: true, dialect: "draft-07" });
  });

  it("refuses every other dialect, naming it", () => {
    for (const uri of ["http://json-schema.org/draft-04/schema#", "https://json-schema.org/draft/2019-09/schema", "urn:example:mine", 7]) {
      expect(compiler.compile({ $schema: uri, type: "object" })).toEqual({
        ok: false,
        message: `its $schema ${JSON.stringify(uri)} is not a dialect the sidecar checks (JSON Schema 2020-12, the default, or draft-07)`,
      });
    }
    expect(compiler.compile([1])).toEqual({ ok: false, message: "it is not a JSON Schema object" });
  });

  it("runs pattern on RE2: a pattern RE2 rejects (a backreference) does not compile", () => {
    const result = compiler.compile({ type: "object", properties: { word: { type: "string", pattern: "^(a+)\\1$" } } });
    expect(result).toEqual({ ok: false, message: "as JSON Schema 2020-12, it does not compile: error parsing regexp: invalid escape sequence: `\\1`" });
    // The same pattern is fine for JavaScript's engine: only RE2 refuses it.
    expect(() => new RegExp("^(a+)\\1$")).not.toThrow();
    expect(check({ type: "object", properties: { word: { type: "string", pattern: "^[a-z]+$" } } }, { word: "Ab" })).toBe('word: must match pattern "^[a-z]+$"');
  });

  it("never resolves a reference outside the schema: it does not compile, saying it is never fetched", () => {
    const result = compiler.compile({ type: "object", properties: { x: { $ref: "http://127.0.0.1:9/x.json" } } });
    expect(result).toMatchObject({ ok: false, message: expect.stringContaining("a $ref outside the schema is never fetched") });
    // References inside the schema resolve.
    expect(check({ type: "object", $defs: { n: { type: "integer" } }, properties: { x: { $ref: "#/$defs/n" } } }, { x: "1" })).toBe("x: must be integer");
  });

  it("ignores keywords and formats it does not know (annotations), unlike policy schemas", () => {
    expect(check({ type: "object", "x-vendor": true, examples: [{}], properties: { at: { type: "string", format: "made-up" } } }, { at: "anything" })).toBeUndefined();
    expect(check({ type: "object", properties: { at: { type: "string", format: "date-time" } } }, { at: "yesterday" })).toBe('at: must match format "date-time"');
  });

  it("reads own properties only", () => {
    expect(check({ type: "object", required: ["constructor"] }, {})).toBe("constructor: is required");
  });
});
