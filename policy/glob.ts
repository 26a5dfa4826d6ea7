// Tool-name globs: `*` matches any run of code points (also none), `?` exactly one code
// point, every other character only itself (`[`, `.`, `\` included). Names compare code
// point by code point: no case folding, no Unicode normalisation.
//
// Matching is the two-pointer wildcard algorithm rather than a RegExp, so its cost is
// bounded by name length × pattern length whatever the pattern (no backtracking
// blow-up), and `?` steps over a surrogate pair as one code point.

/** Rule keys and hide entries longer than this are rejected when a policy is read. */
const MAX_PATTERN_LENGTH = 256;

/**
 * Call and list tool names longer than this never reach glob matching (they fall to a
 * deny; see evaluateCall), which bounds the matching cost an agent can cause.
 */
export const MAX_TOOL_NAME_LENGTH = 512;

const STAR = 42; // "*"
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const QUESTION = 63; // "?"

export interface CompiledGlob {
  readonly pattern: string;
  /** Literal text before the first wildcard: a cheap first filter. */
  readonly prefix: string;
  readonly literalCount: number;
  readonly starCount: number;
}

export function isGlobPattern(pattern: string): boolean {
  return pattern.includes("*") || pattern.includes("?");
}

export function compileGlob(pattern: string): CompiledGlob {
  let literalCount = 0;
  let starCount = 0;
  for (const char of pattern) {
    if (char === "*") starCount++;
    else if (char !== "?") literalCount++;
  }
  const firstWildcard = pattern.search(/[*?]/);
  const prefix = firstWildcard < 0 ? pattern : pattern.slice(0, firstWildcard);
  return { pattern, prefix, literalCount, starCount };
}

export function matchesGlob(glob: CompiledGlob, name: string): boolean {
  return name.startsWith(glob.prefix) && globMatches(glob.pattern, name);
}

/** Length in code units of the code point starting at `index` (a lone surrogate is one). */
function codePointLength(text: string, index: number): number {
  const unit = text.charCodeAt(index);
  if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
    const next = text.charCodeAt(index + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return 2;
  }
  return 1;
}

/**
 * Whether `name` matches `pattern`. Literal characters are compared code unit by code
 * unit; that equals code point comparison because patterns are well-formed UTF-16 (checked
 * when a policy is read) and `*` and `?` only ever stop on code point boundaries.
 */
export function globMatches(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (n < name.length) {
    if (p < pattern.length) {
      const unit = pattern.charCodeAt(p);
      if (unit === STAR) {
        starAt = p++;
        resumeAt = n;
        continue;
      }
      if (unit === QUESTION) {
        p++;
        n += codePointLength(name, n);
        continue;
      }
      if (unit === name.charCodeAt(n)) {
        p++;
        n++;
        continue;
      }
    }
    if (starAt < 0) return false;
    // Let the last `*` swallow one more code point and retry from there.
    resumeAt += codePointLength(name, resumeAt);
    p = starAt + 1;
    n = resumeAt;
  }
  while (p < pattern.length && pattern.charCodeAt(p) === STAR) p++;
  return p === pattern.length;
}

/**
 * Order for "the most specific glob": more literal characters first, then fewer `*`,
 * then code point order of the pattern, so the winner never depends on input order.
 */
export function compareGlobSpecificity(a: CompiledGlob, b: CompiledGlob): number {
  if (a.literalCount !== b.literalCount) return b.literalCount - a.literalCount;
  if (a.starCount !== b.starCount) return a.starCount - b.starCount;
  return compareCodePoints(a.pattern, b.pattern);
}

function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done === true || y.done === true) return (x.done === true ? 0 : 1) - (y.done === true ? 0 : 1);
    const cx = x.value.codePointAt(0) as number;
    const cy = y.value.codePointAt(0) as number;
    if (cx !== cy) return cx - cy;
  }
}

/** Why `pattern` cannot be a rule key or hide entry, or undefined if it can. */
export function toolPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return "a tool name or glob must not be empty";
  if (pattern.length > MAX_PATTERN_LENGTH) return `a tool name or glob must be at most ${MAX_PATTERN_LENGTH} characters`;
  if (LONE_SURROGATE.test(pattern)) return "a tool name or glob must be well-formed Unicode (it has a lone surrogate)";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(pattern)) return "a tool name or glob must not contain control characters";
  return undefined;
}
