// Validation results are values: every problem found, each with the path of the field
// it is about, so a user can fix them all in one edit (and the operator can put them in
// an `Accepted=False` condition) instead of meeting them one exception at a time.

export interface PolicyProblem {
  /** The policy the problem belongs to ("namespace/name"), when it is known. */
  policy?: string;
  /** 1-based document number, when the text held several documents. */
  document?: number;
  /** Where in the document, e.g. `spec.tools["run_*"].limits[0].window`; "" for the whole document. */
  path: string;
  /** What is wrong and, where it helps, what would be right. */
  message: string;
}

/** `spec.tools["x"].when: does not parse: ...`, prefixed with `document 2: ` in a multi-document text. */
export function formatProblem(problem: PolicyProblem): string {
  const where = problem.document === undefined ? "" : `document ${problem.document}: `;
  return problem.path === "" ? `${where}${problem.message}` : `${where}${problem.path}: ${problem.message}`;
}

/** `base.field`, or `base["odd key"]` when the field is not a plain identifier. */
export function fieldPath(base: string, field: string): string {
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(field)) return base === "" ? field : `${base}.${field}`;
  return `${base}[${JSON.stringify(field)}]`;
}

/** `base["key"]`: map entries (tool rules, labels) are always written this way. */
export function entryPath(base: string, key: string): string {
  return `${base}[${JSON.stringify(key)}]`;
}

export function indexPath(base: string, index: number): string {
  return `${base}[${index}]`;
}

/** A value quoted for a message, cut so a huge value cannot flood a status condition. */
export function quoteValue(value: unknown): string {
  if (typeof value === "number") return String(value); // JSON would print Infinity and NaN as null
  let text: string;
  try {
    text = value === undefined ? "undefined" : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The JSON type name of a value, for "must be a string, not a number" messages. */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value === "object" ? "object" : typeof value;
}
