// The compiled form of a pod's policies. Everything evaluateCall needs is computed here
// once: exact names in a Map, globs sorted by specificity, CEL planned, schemas compiled,
// and the decisions that do not depend on the call built and frozen.

import type { CompiledArgumentSchema } from "./argument-schema.ts";
import type { CompiledCondition } from "./cel-condition.ts";
import type { PolicyEngines } from "./policy-engines.ts";
import type { Decision } from "./decision.ts";
import type { CompiledGlob } from "./glob.ts";
import type { GlobIndex } from "./glob-index.ts";
import type { IdentitySpec, JsonSchema, McpPolicy, PolicyMode, ToolAction } from "./model.ts";
import type { RateLimitScope } from "./ratelimit/types.ts";

export interface CompiledLimit {
  readonly namespace: string;
  readonly counter: string;
  readonly scope: RateLimitScope;
  readonly windowMs: number;
  readonly max: number;
  readonly policy: string;
  /** `tools["x"].limits[0]` or `allTools.limits[0]`. */
  readonly rule: string;
}

export interface CompiledRule {
  /** `tools["run_*"]` or `default`. */
  readonly rule: string;
  readonly action: ToolAction;
  /** This rule's limits followed by the policy's allTools limits. */
  readonly limits: readonly CompiledLimit[];
  readonly arguments: CompiledArgumentSchema | undefined;
  /** The schema `arguments` was compiled from, as written (advertised with advertiseConstraints). */
  readonly argumentsSchema: JsonSchema | undefined;
  readonly condition: CompiledCondition | undefined;
  readonly reason: string | undefined;
  readonly approvalTimeoutMs: number;
  /** The decision when nothing about the call changes it: allow, deny or approval_required. */
  readonly decision: Decision;
}

export interface CompiledHideEntry {
  readonly glob: CompiledGlob;
  readonly exact: boolean;
  readonly decision: Decision;
}

/** spec.toolDefinitions when its mode is pin or audit (off compiles to nothing). */
export interface CompiledToolDefinitions {
  readonly mode: "pin" | "audit";
  /** Exact tool name → `sha256:<hex>`. */
  readonly pins: ReadonlyMap<string, string>;
}

export interface CompiledPolicy {
  readonly ref: string;
  readonly namespace: string;
  readonly name: string;
  readonly mode: PolicyMode;
  /** In `hide` order: the first entry that matches names the rule. */
  readonly hide: readonly CompiledHideEntry[];
  /** `hide` indexed: its firstMatch is the position in `hide` of the entry that names the rule. */
  readonly hideIndex: GlobIndex;
  readonly exact: ReadonlyMap<string, CompiledRule>;
  /** Most specific first. */
  readonly globs: readonly { readonly glob: CompiledGlob; readonly rule: CompiledRule }[];
  /** `globs` indexed: its firstMatch is the position in `globs` of the most specific match. */
  readonly globIndex: GlobIndex;
  /** `default`: allow or deny, with the allTools limits. */
  readonly fallback: CompiledRule;
  /** The answer for names too long to match (see MAX_TOOL_NAME_LENGTH). */
  readonly overlongName: Decision;
  readonly toolDefinitions: CompiledToolDefinitions | undefined;
  readonly validateServerSchema: boolean;
  readonly advertiseConstraints: boolean;
}

export interface IdentityConflict {
  /** The policy whose identity disagrees (the newer one). */
  readonly policy: string;
  /** The older policy whose identity applies. */
  readonly conflictsWith: string;
  readonly message: string;
}

export interface DecisionTable {
  /** The source policies, in namespace/name order: what a bundle carries (see bundle.ts). */
  readonly policies: readonly McpPolicy[];
  /** Who the caller is for every policy of the pod: the oldest policy's identity, or source: none. */
  readonly identity: IdentitySpec;
  readonly identityConflicts: readonly IdentityConflict[];
  /** Enforcing policies in namespace/name order. */
  readonly enforcing: readonly CompiledPolicy[];
  /** Audit-mode policies in namespace/name order. */
  readonly audit: readonly CompiledPolicy[];
  /** What the table was compiled with: a listed tool's server schema is compiled with its schema engine. */
  readonly engines: PolicyEngines;
}
