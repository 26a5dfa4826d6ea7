// The tool names the upstream listed (any session, any page), bounded. Two uses: a metric
// label may name a listed tool (ARCHITECTURE.md "Metrics"), and a called name that is not
// listed but equals a listed one except for case is refused: policy matches names
// case-sensitively, and a server that looks tools up case-insensitively would run the
// listed tool under a name no rule was written for.

const MAX_KNOWN_TOOLS = 10_000;

export class KnownTools {
  readonly #names = new Set<string>();
  readonly #byFold = new Map<string, string>();

  get names(): ReadonlySet<string> {
    return this.#names;
  }

  add(name: string): void {
    if (this.#names.has(name) || this.#names.size >= MAX_KNOWN_TOOLS) return;
    this.#names.add(name);
    const fold = foldName(name);
    if (!this.#byFold.has(fold)) this.#byFold.set(fold, name);
  }

  /** A listed name equal to `name` but for case, when `name` itself is not listed. */
  caseTwin(name: string): string | undefined {
    if (this.#names.size === 0 || this.#names.has(name)) return undefined;
    return this.#byFold.get(foldName(name));
  }
}

function foldName(name: string): string {
  return name.toUpperCase().toLowerCase();
}
