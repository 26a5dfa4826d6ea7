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

import { measureToolDefinition, ServerSchemaCompiler, type ListedTool } from "../../../policy/index.ts";
import type { JsonObject } from "../../jsonrpc/message.ts";

const MAX_CATALOG_TOOLS = 10_000;
/** Canonical definition text held at most (the schemas kept for checking are about this size again). */
const MAX_CATALOG_BYTES = 16 * 1024 * 1024;

type SchemaResult = ListedTool["inputSchema"];

class CatalogEntry implements ListedTool {
  readonly digest: string;
  readonly size: number;
  readonly #compiler: ServerSchemaCompiler;
  #source: unknown;
  #compiled: SchemaResult | undefined;

  constructor(digest: string, size: number, inputSchema: unknown, compiler: ServerSchemaCompiler) {
    this.digest = digest;
    this.size = size;
    this.#source = inputSchema;
    this.#compiler = compiler;
  }

  /** Compiled on first use: most listed tools are never called with validateServerSchema on. */
  get inputSchema(): SchemaResult {
    if (this.#compiled === undefined) {
      this.#compiled = this.#compiler.compile(this.#source);
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
  readonly #schemas = new ServerSchemaCompiler();
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
    const { digest, size } = measureToolDefinition(tool);
    const known = this.#entries.get(name);
    if (known?.digest === digest) return { digest, previous: digest, changed: false };
    this.#addName(name);
    const bytes = this.#bytes - (known?.size ?? 0) + size;
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
    this.#entries.set(name, new CatalogEntry(digest, size, tool["inputSchema"], this.#schemas));
    this.#bytes = bytes;
    return { digest, previous: known?.digest, changed: true };
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
