// Compiles one policy: every semantic check (names, globs, windows, counters, CEL,
// schemas, timeouts, identity, selector), each problem with its path, and the compiled
// form evaluateCall runs. Validating a policy is compiling it and keeping the problems.

import type { CompiledArgumentSchema } from "./argument-schema.ts";
import type { CompiledCondition } from "./cel-condition.ts";
import { CompileCache } from "./compile-cache.ts";
import type { CompiledHideEntry, CompiledLimit, CompiledPolicy, CompiledRule, CompiledToolDefinitions } from "./decision-table.ts";
import type { Decision } from "./decision.ts";
import { describeMs, parseApprovalTimeout, parseWindow } from "./duration.ts";
import { compareGlobSpecificity, compileGlob, isGlobPattern, MAX_TOOL_NAME_LENGTH, toolPatternProblem, type CompiledGlob } from "./glob.ts";
import { GlobIndex } from "./glob-index.ts";
import { identityProblems } from "./identity-problems.ts";
import { labelKeyProblem, labelValueProblem, namespaceProblem, objectNameProblem } from "./kubernetes-names.ts";
import { policyRef, type DefaultAction, type LabelSelector, type McpPolicy, type RateLimitSpec, type ToolAction, type ToolDefinitionsSpec, type ToolRuleSpec } from "./model.ts";
import { entryPath, fieldPath, indexPath, quoteValue, type PolicyProblem } from "./problems.ts";
import { toolDigestProblem } from "./tool-definition.ts";

/** A budget's log holds up to `max` timestamps per key, so `max` is bounded (as in the CRD). */
const MAX_LIMIT = 100_000;
const MAX_REASON_LENGTH = 1024;
const MAX_COUNTER_LENGTH = 128;
/** As in the CRD: list sizes bound the work a policy can make per call. */
const MAX_TOOL_RULES = 256;
const MAX_HIDE_ENTRIES = 256;
const MAX_LIMITS_PER_LIST = 16;
/** As in the CRD: pins are exact names, one per tool a server lists. */
const MAX_PINS = 512;

/** Where a counter was first defined: later uses must agree (one counter, one budget). */
export interface CounterUse {
  readonly windowMs: number;
  readonly max: number;
  readonly scope: string;
  readonly policy: string;
  readonly path: string;
}

export interface PolicyCompileContext {
  /** Schemas and conditions already compiled in this pass (reading, then compiling together). */
  readonly cache: CompileCache;
  /** Shared by all policies compiled together, so counter consistency spans them. */
  readonly counters: Map<string, CounterUse>;
}

export interface PolicyCompileResult {
  /** Undefined when there are problems. */
  readonly compiled: CompiledPolicy | undefined;
  readonly problems: PolicyProblem[];
}

/** Every semantic problem of one policy on its own. */
export function policyProblems(policy: McpPolicy, cache: CompileCache = new CompileCache()): PolicyProblem[] {
  return compilePolicy(policy, { cache, counters: new Map() }).problems;
}

export function compilePolicy(policy: McpPolicy, context: PolicyCompileContext): PolicyCompileResult {
  const ref = policyRef(policy);
  const problems: PolicyProblem[] = [];
  const add = (path: string, message: string): void => void problems.push({ policy: ref, path, message });
  const { metadata, spec } = policy;
  const namespace = metadata.namespace ?? "";

  const nameProblem = objectNameProblem(metadata.name);
  if (nameProblem !== undefined) add("metadata.name", nameProblem);
  if (metadata.namespace !== undefined) {
    const problem = namespaceProblem(metadata.namespace);
    if (problem !== undefined) add("metadata.namespace", problem);
  }
  if (spec.selector !== undefined) checkSelector(spec.selector, add);
  if (spec.identity !== undefined) {
    for (const problem of identityProblems(spec.identity, "spec.identity")) add(problem.path, problem.message);
  }

  const limitCompiler = new LimitCompiler(ref, namespace, context.counters, add);
  const allToolsLimits = limitCompiler.compile(spec.allTools?.limits ?? [], "spec.allTools.limits", "allTools.limits");

  const hide: CompiledHideEntry[] = [];
  if ((spec.hide ?? []).length > MAX_HIDE_ENTRIES) add("spec.hide", `has ${spec.hide?.length} entries; at most ${MAX_HIDE_ENTRIES} are allowed`);
  const toolCount = Object.keys(spec.tools ?? {}).length;
  if (toolCount > MAX_TOOL_RULES) add("spec.tools", `has ${toolCount} rules; at most ${MAX_TOOL_RULES} are allowed`);
  (spec.hide ?? []).forEach((pattern, index) => {
    const problem = toolPatternProblem(pattern);
    if (problem !== undefined) return add(indexPath("spec.hide", index), problem);
    const decision = frozen({ decision: "deny", policy: ref, rule: indexPath("hide", index), reason: "this tool is hidden" });
    hide.push({ glob: compileGlob(pattern), exact: !isGlobPattern(pattern), decision });
  });

  const exact = new Map<string, CompiledRule>();
  const globs: { glob: CompiledGlob; rule: CompiledRule }[] = [];
  for (const [name, ruleSpec] of Object.entries(spec.tools ?? {})) {
    const path = entryPath("spec.tools", name);
    const problem = toolPatternProblem(name);
    if (problem !== undefined) add(path, problem);
    const rule = compileRule(ruleSpec, {
      ref,
      path,
      rule: entryPath("tools", name),
      allToolsLimits,
      limitCompiler,
      cache: context.cache,
      add,
    });
    if (problem !== undefined || rule === undefined) continue;
    if (isGlobPattern(name)) globs.push({ glob: compileGlob(name), rule });
    else exact.set(name, rule);
  }
  globs.sort((a, b) => compareGlobSpecificity(a.glob, b.glob));
  const toolDefinitions = compileToolDefinitions(spec.toolDefinitions, add);

  if (problems.length > 0) return { compiled: undefined, problems };
  return {
    compiled: {
      ref,
      namespace,
      name: metadata.name,
      mode: spec.mode ?? "enforce",
      hide,
      hideIndex: new GlobIndex(hide.map((entry) => entry.glob)),
      exact,
      globs,
      globIndex: new GlobIndex(globs.map((entry) => entry.glob)),
      fallback: defaultRule(ref, spec.default ?? "deny", allToolsLimits),
      overlongName: frozen({
        decision: "deny",
        policy: ref,
        rule: "default",
        reason: `tool names longer than ${MAX_TOOL_NAME_LENGTH} characters are refused`,
      }),
      toolDefinitions,
      validateServerSchema: spec.validateServerSchema === true,
      advertiseConstraints: spec.advertiseConstraints === true,
    },
    problems,
  };
}

function compileToolDefinitions(spec: ToolDefinitionsSpec | undefined, add: (path: string, message: string) => void): CompiledToolDefinitions | undefined {
  if (spec === undefined) return undefined;
  const entries = Object.entries(spec.pins ?? {});
  if (entries.length > MAX_PINS) add("spec.toolDefinitions.pins", `has ${entries.length} pins; at most ${MAX_PINS} are allowed`);
  const pins = new Map<string, string>();
  for (const [name, digest] of entries) {
    const path = entryPath("spec.toolDefinitions.pins", name);
    if (name.length === 0 || name.length > MAX_TOOL_NAME_LENGTH) add(path, `tool names must be 1 to ${MAX_TOOL_NAME_LENGTH} characters`);
    const problem = toolDigestProblem(digest);
    if (problem !== undefined) add(path, problem);
    pins.set(name, digest);
  }
  const mode = spec.mode ?? "off";
  switch (mode) {
    case "off":
      return undefined;
    case "pin":
    case "audit":
      return { mode, pins };
    default:
      // Unreachable for a policy the readers accepted; an unknown mode pins (fail closed).
      mode satisfies never;
      return { mode: "pin", pins };
  }
}

interface RuleContext {
  readonly ref: string;
  readonly path: string;
  readonly rule: string;
  readonly allToolsLimits: readonly CompiledLimit[];
  readonly limitCompiler: LimitCompiler;
  readonly cache: CompileCache;
  readonly add: (path: string, message: string) => void;
}

function compileRule(spec: ToolRuleSpec, context: RuleContext): CompiledRule | undefined {
  const { ref, path, rule, add } = context;
  const before = context.limitCompiler.problemCount;
  const state = { failed: false };
  const fail = (at: string, message: string): void => {
    state.failed = true;
    add(at, message);
  };
  const action = spec.action ?? "allow";
  if (spec.reason !== undefined && spec.reason.length > MAX_REASON_LENGTH) {
    fail(fieldPath(path, "reason"), `is ${spec.reason.length} characters long; at most ${MAX_REASON_LENGTH} are allowed`);
  }
  const limits = context.limitCompiler.compile(spec.limits ?? [], fieldPath(path, "limits"), fieldPath(rule, "limits"));

  let argumentSchema: CompiledArgumentSchema | undefined;
  if (spec.arguments !== undefined) {
    const result = context.cache.schema(spec.arguments);
    if (result.ok) argumentSchema = result.schema;
    else fail(fieldPath(path, "arguments"), result.message);
  }
  let condition: CompiledCondition | undefined;
  if (spec.when !== undefined) {
    const result = context.cache.condition(spec.when);
    if (result.ok) condition = result.condition;
    else fail(fieldPath(path, "when"), result.message);
  }
  let approvalTimeoutMs = 0;
  const timeoutPath = fieldPath(fieldPath(path, "approval"), "timeout");
  if (spec.approval !== undefined) {
    if (action !== "approve") fail(fieldPath(path, "approval"), `is only used with action: approve (action is ${action})`);
    const timeout = parseApprovalTimeout(spec.approval.timeout);
    if (timeout.ok) approvalTimeoutMs = timeout.ms;
    else fail(timeoutPath, timeout.message);
  } else if (action === "approve") {
    fail(timeoutPath, "is required when action is approve (how long a held call waits for a person, 1s to 24h)");
  }
  if (state.failed || context.limitCompiler.problemCount > before) return undefined;

  const reason = spec.reason;
  return {
    rule,
    action,
    limits: [...limits, ...context.allToolsLimits],
    arguments: argumentSchema,
    argumentsSchema: spec.arguments,
    condition,
    reason,
    approvalTimeoutMs,
    decision: frozen(ruleDecision(action, ref, rule, reason)),
  };
}

/** What a rule decides before its limits, arguments and condition are looked at. */
function ruleDecision(action: ToolAction, policy: string, rule: string, reason: string | undefined): Decision {
  switch (action) {
    case "allow":
      return { decision: "allow", policy, rule, reason: "allowed" };
    case "deny":
      return { decision: "deny", policy, rule, reason: reason ?? "this tool is denied" };
    case "approve":
      return { decision: "approval_required", policy, rule, reason: reason ?? "this call needs approval" };
    default:
      // A new action is a compile error here; one that slipped past the reader is denied.
      action satisfies never;
      return { decision: "deny", policy, rule, reason: `unknown action ${JSON.stringify(action)}` };
  }
}

function defaultRule(ref: string, action: DefaultAction, allToolsLimits: readonly CompiledLimit[]): CompiledRule {
  return {
    rule: "default",
    action,
    limits: allToolsLimits,
    arguments: undefined,
    argumentsSchema: undefined,
    condition: undefined,
    reason: undefined,
    approvalTimeoutMs: 0,
    decision: frozen(defaultDecision(action, ref)),
  };
}

function defaultDecision(action: DefaultAction, policy: string): Decision {
  switch (action) {
    case "allow":
      return { decision: "allow", policy, rule: "default", reason: "allowed (default: allow)" };
    case "deny":
      return { decision: "deny", policy, rule: "default", reason: "this tool is not allowed (default: deny)" };
    default:
      action satisfies never;
      return { decision: "deny", policy, rule: "default", reason: `unknown default ${JSON.stringify(action)}` };
  }
}

class LimitCompiler {
  readonly #ref: string;
  readonly #namespace: string;
  readonly #counters: Map<string, CounterUse>;
  readonly #add: (path: string, message: string) => void;
  problemCount = 0;

  constructor(ref: string, namespace: string, counters: Map<string, CounterUse>, add: (path: string, message: string) => void) {
    this.#ref = ref;
    this.#namespace = namespace;
    this.#counters = counters;
    this.#add = add;
  }

  compile(specs: readonly RateLimitSpec[], specPath: string, rulePath: string): CompiledLimit[] {
    const limits: CompiledLimit[] = [];
    if (specs.length > MAX_LIMITS_PER_LIST) this.#problem(specPath, `has ${specs.length} limits; at most ${MAX_LIMITS_PER_LIST} are allowed`);
    specs.forEach((spec, index) => {
      const limit = this.#compileOne(spec, indexPath(specPath, index), indexPath(rulePath, index));
      if (limit !== undefined) limits.push(limit);
    });
    return limits;
  }

  #problem(path: string, message: string): void {
    this.problemCount++;
    this.#add(path, message);
  }

  #compileOne(spec: RateLimitSpec, path: string, rule: string): CompiledLimit | undefined {
    const before = this.problemCount;
    if (spec.counter.length === 0 || spec.counter.length > MAX_COUNTER_LENGTH || CONTROL_CHARACTER.test(spec.counter)) {
      this.#problem(
        fieldPath(path, "counter"),
        `${quoteValue(spec.counter)} is not a counter name (1 to ${MAX_COUNTER_LENGTH} characters, no control characters)`,
      );
    }
    const window = parseWindow(spec.window);
    if (!window.ok) this.#problem(fieldPath(path, "window"), window.message);
    if (!Number.isInteger(spec.max) || spec.max < 1 || spec.max > MAX_LIMIT) {
      this.#problem(fieldPath(path, "max"), `${quoteValue(spec.max)} is not a whole number from 1 to ${MAX_LIMIT}`);
    }
    if (this.problemCount > before || !window.ok) return undefined;

    const limit: CompiledLimit = {
      namespace: this.#namespace,
      counter: spec.counter,
      scope: spec.scope ?? "grant",
      windowMs: window.ms,
      max: spec.max,
      policy: this.#ref,
      rule,
    };
    const seen = this.#counters.get(spec.counter);
    if (seen === undefined) {
      this.#counters.set(spec.counter, { windowMs: limit.windowMs, max: limit.max, scope: limit.scope, policy: this.#ref, path });
    } else if (seen.windowMs !== limit.windowMs || seen.max !== limit.max || seen.scope !== limit.scope) {
      const where = seen.policy === this.#ref ? seen.path : `${seen.policy} ${seen.path}`;
      this.#problem(
        path,
        `counter ${quoteValue(spec.counter)} is already used at ${where} with window ${describeMs(seen.windowMs)}, ` +
          `max ${seen.max}, scope ${seen.scope}; a counter is one budget, so every use needs the same window, max and scope`,
      );
      return undefined;
    }
    return limit;
  }
}

function checkSelector(selector: LabelSelector, add: (path: string, message: string) => void): void {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    const path = entryPath("spec.selector.matchLabels", key);
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem !== undefined) add(path, problem);
  }
  (selector.matchExpressions ?? []).forEach((requirement, index) => {
    const path = indexPath("spec.selector.matchExpressions", index);
    const keyProblem = labelKeyProblem(requirement.key);
    if (keyProblem !== undefined) add(fieldPath(path, "key"), keyProblem);
    const values = requirement.values ?? [];
    const needsValues = requirement.operator === "In" || requirement.operator === "NotIn";
    if (needsValues && values.length === 0) add(fieldPath(path, "values"), `must not be empty with operator ${requirement.operator}`);
    if (!needsValues && values.length > 0) add(fieldPath(path, "values"), `must be empty with operator ${requirement.operator}`);
    values.forEach((value, valueIndex) => {
      const problem = labelValueProblem(value);
      if (problem !== undefined) add(indexPath(fieldPath(path, "values"), valueIndex), problem);
    });
  });
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

function frozen(decision: Decision): Decision {
  return Object.freeze(decision);
}
