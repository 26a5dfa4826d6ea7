// The tools the upstream listed (any session, any page, any transport): per tool name,
// the definition digest and inputSchema of the last listing that named it. Filled where
// tools/list results are read (server-message.ts), always from the server's own text,
// before the sidecar changes anything in the listing. What it serves:
// - pins and the server-schema check judge a call by the tool as last listed
//   (ToolCall.listed; the schema is compiled on first use, once per definition);
// - a metric label may name a listed tool (ARCHITECTURE.md "Metrics");
// - a called name that is not listed but equals a listed one except for case is refused:
//   policy matches names case-sensitively, and a server that looks tools up
//   case-insensitively would run the listed tool under a name no rule was written for.
// Bounded by names and by the bytes of definitions held; a tool that does not fit is not
// recorded, so a call to it counts as never listed (refused wherever that matters).

import { toolDefinitionDigest, type ListedTool } from "../../../policy/index.ts";
import type { ArgumentSchemaResult } from "../../../policy/argument-schema.ts";
import type { SchemaEngine } from "../../../policy/policy-engines.ts";
import type { JsonObject } from "../../jsonrpc/message.ts";

const MAX_CATALOG_TOOLS = 10_000;
/** Listed tool text held at most, counted twice (the parsed schema kept for checking is about that size again). */
const MAX_CATALOG_BYTES = 32 * 1024 * 1024;

const NO_SCHEMA_ENGINE: ArgumentSchemaResult = { ok: false, message: "the JSON Schema engine is not loaded" };

class CatalogEntry implements ListedTool {
  readonly digest: string;
  /** The tool object as JSON.stringify writes it: the same text again needs no new digest. */
  readonly text: string;
  /** Bytes held for it: the text, and about as much again for the canonical form and the schema. */
  readonly size: number;
  #source: unknown;
  #compiled: ArgumentSchemaResult | undefined;

  constructor(digest: string, text: string, inputSchema: unknown) {
    this.digest = digest;
    this.text = text;
    this.size = 2 * text.length;
    this.#source = inputSchema;
  }

  /**
   * Compiled on first use, with the engine of the table that asks (loaded because one of
   * its policies validates server schemas): most listed tools are never called so.
   */
  inputSchema(engine: SchemaEngine | undefined): ArgumentSchemaResult {
    if (this.#compiled === undefined) {
      if (engine === undefined) return NO_SCHEMA_ENGINE;
      this.#compiled = engine.compileServerSchema(this.#source);
      this.#source = undefined;
    }
    return this.#compiled;
  }
}

/** What recording one listed tool found. */
export interface RecordedTool {
  readonly digest: string;
  /** The digest the catalog held before (undefined: the tool was not listed before). */
  readonly previous: string | undefined;
  /** This listing carries a definition other than the one last seen (or the tool's first). */
  readonly changed: boolean;
}

export class ToolCatalog {
  readonly #entries = new Map<string, CatalogEntry>();
  readonly #names = new Set<string>();
  readonly #byFold = new Map<string, string>();
  #bytes = 0;
  #full = false;

  /** Called once when a definition could not be kept for lack of room. */
  onFull: (() => void) | undefined;

  get names(): ReadonlySet<string> {
    return this.#names;
  }

  /** The tool as last listed, or undefined when no listing named it (or it did not fit). */
  get(name: string): ListedTool | undefined {
    return this.#entries.get(name);
  }

  /** Records one tool object of a tools/list result as the server sent it. */
  record(tool: JsonObject & { readonly name: string }): RecordedTool {
    const name = tool.name;
    const known = this.#entries.get(name);
    // A listing repeats itself: the same text is the same definition, digested already
    // (JSON.stringify is native and about 8 times cheaper than canonical JSON and SHA-256).
    const text = JSON.stringify(tool);
    if (known?.text === text) return { digest: known.digest, previous: known.digest, changed: false };
    const digest = toolDefinitionDigest(tool);
    if (known?.digest === digest) {
      // Another spelling or another non-definition field (`_meta`): the same definition.
      this.#replace(name, known, new CatalogEntry(digest, text, tool["inputSchema"]));
      return { digest, previous: digest, changed: false };
    }
    this.#addName(name);
    const entry = new CatalogEntry(digest, text, tool["inputSchema"]);
    const bytes = this.#bytes - (known?.size ?? 0) + entry.size;
    if (!this.#names.has(name) || bytes > MAX_CATALOG_BYTES) {
      // The old definition must not stand for the new one: forget it, so calls count as never listed.
      if (known !== undefined) {
        this.#entries.delete(name);
        this.#bytes -= known.size;
      }
      if (!this.#full) {
        this.#full = true;
        this.onFull?.();
      }
      return { digest, previous: known?.digest, changed: true };
    }
    this.#entries.set(name, entry);
    this.#bytes = bytes;
    return { digest, previous: known?.digest, changed: true };
  }

  /** Keeps a definition under a new text, if the new text fits (else the old one stays: same digest, same schema). */
  #replace(name: string, known: CatalogEntry, entry: CatalogEntry): void {
    const bytes = this.#bytes - known.size + entry.size;
    if (bytes > MAX_CATALOG_BYTES) return;
    this.#entries.set(name, entry);
    this.#bytes = bytes;
  }

  /** A listed name equal to `name` but for case, when `name` itself is not listed. */
  caseTwin(name: string): string | undefined {
    if (this.#names.size === 0 || this.#names.has(name)) return undefined;
    return this.#byFold.get(foldName(name));
  }

  #addName(name: string): void {
    if (this.#names.has(name) || this.#names.size >= MAX_CATALOG_TOOLS) return;
    this.#names.add(name);
    const fold = foldName(name);
    if (!this.#byFold.has(fold)) this.#byFold.set(fold, name);
  }
}

function foldName(name: string): string {
  return name.toUpperCase().toLowerCase();
}
