// `when` conditions: CEL over `tool`, `args`, `identity` and `session`, parsed and planned
// once per table. Evaluation cannot be interrupted, so expressions are limited statically
// (length, comprehension nesting) and everything the parser accepts but evaluation would
// only reject later (unknown variables and functions, bad regexes) is a validation error.

import { celEnv, CelScalar, isCelError, parse, plan } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";

/** Longest condition, in characters (code points). */
export const MAX_CONDITION_LENGTH = 1024;
/** Comprehensions (`all`, `exists`, `map`, ...) may hold one more comprehension, no deeper. */
const MAX_COMPREHENSION_DEPTH = 2;

const VARIABLES = ["tool", "args", "identity", "session"] as const;
// Type names are identifiers in CEL (`type(args.n) == double`).
const TYPE_NAMES = ["bool", "bytes", "double", "dyn", "int", "list", "map", "null_type", "string", "type", "uint"];

const environment = celEnv({
  variables: { tool: CelScalar.STRING, args: CelScalar.DYN, identity: CelScalar.DYN, session: CelScalar.DYN },
  funcs: strings,
});

type Expr = ReturnType<typeof parse>["expr"];
type Program = (bindings: ConditionBindings) => unknown;

import { CONDITION_FALSE } from "./condition-outcome.ts";
import type { ConditionEngine } from "./policy-engines.ts";

export interface ConditionBindings {
  tool: string;
  args: unknown;
  identity: unknown;
  session: unknown;
}

export interface CompiledCondition {
  readonly source: string;
  /** undefined when the condition is boolean `true`; otherwise why the call is refused. */
  evaluate(bindings: ConditionBindings): string | undefined;
}

export type ConditionResult = { ok: true; condition: CompiledCondition } | { ok: false; message: string };

export function compileCondition(source: string): ConditionResult {
  const length = [...source].length;
  if (length > MAX_CONDITION_LENGTH) {
    return { ok: false, message: `is ${length} characters long; at most ${MAX_CONDITION_LENGTH} are allowed` };
  }
  if (source.trim() === "") return { ok: false, message: "must not be empty" };
  let expr: Expr;
  try {
    expr = parse(source).expr;
  } catch (error) {
    return { ok: false, message: `does not parse: ${firstLine(error)}` };
  }
  const problem = staticProblem(expr);
  if (problem !== undefined) return { ok: false, message: problem };
  let program: Program;
  try {
    program = plan(environment, expr) as unknown as Program;
  } catch (error) {
    return { ok: false, message: `does not compile: ${firstLine(error)}` };
  }
  return { ok: true, condition: { source, evaluate: (bindings) => runCondition(program, bindings) } };
}

function runCondition(program: Program, bindings: ConditionBindings): string | undefined {
  let result: unknown;
  try {
    result = program(bindings);
  } catch (error) {
    // @bufbuild/cel returns errors as values; a throw (e.g. stack exhaustion) still denies.
    return `condition could not be evaluated: ${firstLine(error)}`;
  }
  if (result === true) return undefined;
  if (result === false) return CONDITION_FALSE;
  if (isCelError(result)) return `condition could not be evaluated: ${firstLine(result)}`;
  return `condition did not evaluate to a boolean (got ${celTypeName(result)})`;
}

function celTypeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number") return "double";
  if (typeof value === "bigint") return "int";
  if (typeof value === "string") return "string";
  return "a value that is not a boolean";
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** Walks the parsed expression for what the static limits and the environment forbid. */
function staticProblem(root: Expr): string | undefined {
  const problems: string[] = [];
  const visit = (expr: Expr | undefined, scope: ReadonlySet<string>, depth: number): void => {
    if (expr === undefined || problems.length > 0) return;
    const kind = expr.exprKind;
    switch (kind.case) {
      case "identExpr":
        if (!scope.has(kind.value.name) && !TYPE_NAMES.includes(kind.value.name)) {
          problems.push(`unknown name ${JSON.stringify(kind.value.name)} (a condition can use ${VARIABLES.join(", ")})`);
        }
        return;
      case "selectExpr":
        visit(kind.value.operand, scope, depth);
        return;
      case "callExpr": {
        const name = kind.value.function;
        // Operators (`_&&_`, `_[_]`, ...) come from the parser; only named functions can be misspelt.
        if (/^[A-Za-z][A-Za-z0-9_]*$/.test(name) && environment.funcs.find(name) === undefined) {
          problems.push(`unknown function ${JSON.stringify(name)}`);
          return;
        }
        if (name === "matches") checkRegexArgument(kind.value.args[0], problems);
        visit(kind.value.target, scope, depth);
        for (const arg of kind.value.args) visit(arg, scope, depth);
        return;
      }
      case "listExpr":
        for (const element of kind.value.elements) visit(element, scope, depth);
        return;
      case "structExpr":
        if (kind.value.messageName !== "") {
          problems.push(`message construction (${kind.value.messageName}{...}) is not supported`);
          return;
        }
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === "mapKey") visit(entry.keyKind.value, scope, depth);
          visit(entry.value, scope, depth);
        }
        return;
      case "comprehensionExpr": {
        const comprehension = kind.value;
        if (depth + 1 > MAX_COMPREHENSION_DEPTH) {
          problems.push(
            `comprehensions (all, exists, exists_one, map, filter) may be nested at most one deep; this one is nested ${depth} deep`,
          );
          return;
        }
        visit(comprehension.iterRange, scope, depth);
        visit(comprehension.accuInit, scope, depth);
        const inner = new Set(scope);
        for (const name of [comprehension.iterVar, comprehension.iterVar2, comprehension.accuVar]) if (name !== "") inner.add(name);
        visit(comprehension.loopCondition, inner, depth + 1);
        visit(comprehension.loopStep, inner, depth + 1);
        visit(comprehension.result, inner, depth);
        return;
      }
      case "constExpr":
      case undefined:
        return;
      default:
        // A kind of expression this check does not know (a newer @bufbuild/cel) is not let through unchecked.
        kind satisfies never;
        problems.push("an expression of a kind this version of mcp-warden does not check");
        return;
    }
  };
  visit(root, new Set(VARIABLES), 0);
  return problems[0];
}

/** A literal pattern is compiled now, so a bad regex is a validation error, not a denial at call time. */
function checkRegexArgument(arg: Expr | undefined, problems: string[]): void {
  if (arg?.exprKind.case !== "constExpr") return;
  const constant = arg.exprKind.value.constantKind;
  if (constant.case !== "stringValue") return;
  const probe = plan(environment, parse("''.matches(pattern)").expr);
  const result = probe({ pattern: constant.value } as unknown as Parameters<typeof probe>[0]);
  if (isCelError(result)) problems.push(`matches(${JSON.stringify(constant.value)}): ${firstLine(result)}`);
}

/** `when` conditions, for CompileCache (policy/policy-engines.ts). */
export const celConditionEngine: ConditionEngine = { compile: compileCondition };
