// The one typed model both input formats are read into: an McpPolicy resource as the
// CRD defines it (ARCHITECTURE.md "The McpPolicy resource"), validated, with optional
// fields left out rather than filled in, so it can be written back (import, bundles)
// exactly as meant. Defaults are applied when policies are compiled.

import type { RateLimitScope } from "./ratelimit/types.ts";

export const MCP_POLICY_API_VERSION = "mcpwarden.dev/v1alpha1";
export const MCP_POLICY_KIND = "McpPolicy";

export const POLICY_MODES = ["enforce", "audit"] as const;
export type PolicyMode = (typeof POLICY_MODES)[number];

export const DEFAULT_ACTIONS = ["deny", "allow"] as const;
export type DefaultAction = (typeof DEFAULT_ACTIONS)[number];

export const TOOL_ACTIONS = ["allow", "deny", "approve"] as const;
export type ToolAction = (typeof TOOL_ACTIONS)[number];

export const RATE_LIMIT_SCOPES = ["grant", "session", "global"] as const satisfies readonly RateLimitScope[];

export const IDENTITY_SOURCES = ["jwt", "header", "session", "none"] as const;
type IdentitySource = (typeof IDENTITY_SOURCES)[number];

export const NETWORK_POLICY_SETTINGS = ["enabled", "disabled"] as const;
type NetworkPolicySetting = (typeof NETWORK_POLICY_SETTINGS)[number];

/**
 * `toolDefinitions.mode`: pin removes listed tools whose definition digest differs from
 * their pin (or that have none) and refuses calls to them; audit reports and counts the
 * same without refusing; off (the default) does neither.
 */
export const TOOL_DEFINITION_MODES = ["pin", "audit", "off"] as const;
type ToolDefinitionMode = (typeof TOOL_DEFINITION_MODES)[number];

export interface RateLimitSpec {
  counter: string;
  /** "minute", "90s", or a number of seconds, as written. */
  window: string | number;
  max: number;
  /** Default: grant. */
  scope?: RateLimitScope;
}

interface ApprovalSpec {
  /** A duration from 1s to 24h ("10m"). Required with action: approve. */
  timeout: string;
}

/** A JSON Schema: an object or a boolean. */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

export interface ToolRuleSpec {
  /** Default: allow. */
  action?: ToolAction;
  reason?: string;
  limits?: RateLimitSpec[];
  arguments?: JsonSchema;
  when?: string;
  approval?: ApprovalSpec;
}

/** Pins of tool definitions (policy/tool-definition.ts has the digest). */
export interface ToolDefinitionsSpec {
  /** Default: off. */
  mode?: ToolDefinitionMode;
  /** Exact tool name → `sha256:<64 hex>`. A record without prototype: any name is a plain key. */
  pins?: Record<string, string>;
}

export interface JwtIdentitySpec {
  issuer: string;
  audiences: string[];
  jwksUri: string;
  /** The claim that names the caller. Default: sub. */
  claim?: string;
}

export interface IdentitySpec {
  source: IdentitySource;
  header?: string;
  jwt?: JwtIdentitySpec;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface McpPolicySpec {
  selector?: LabelSelector;
  /** Default: enforce. */
  mode?: PolicyMode;
  /** Default: deny. */
  default?: DefaultAction;
  hide?: string[];
  networkPolicy?: NetworkPolicySetting;
  /** Absent: this policy has no opinion on who the caller is (see compilePolicies). */
  identity?: IdentitySpec;
  allTools?: { limits?: RateLimitSpec[] };
  /** Keyed by exact tool name or glob. A record without prototype: any name is a plain key. */
  tools?: Record<string, ToolRuleSpec>;
  /** Tool definitions pinned against later changes. Absent: mode off. */
  toolDefinitions?: ToolDefinitionsSpec;
  /** Arguments must also satisfy the inputSchema the server listed for the tool. Default false. */
  validateServerSchema?: boolean;
  /** tools/list shows the policy's argument schemas, rate limits and approvals. Default false. */
  advertiseConstraints?: boolean;
}

/** The metadata fields the policy core uses; others are dropped when a resource is read. */
export interface McpPolicyMetadata {
  name: string;
  /** Absent in standalone files; "" then in rate-limit keys. */
  namespace?: string;
  generation?: number;
  /** RFC 3339; orders policies for identity conflicts (older wins). */
  creationTimestamp?: string;
  uid?: string;
}

export interface McpPolicy {
  apiVersion: typeof MCP_POLICY_API_VERSION;
  kind: typeof MCP_POLICY_KIND;
  metadata: McpPolicyMetadata;
  spec: McpPolicySpec;
}

/** How decisions and problems name a policy: "namespace/name", or "name" without a namespace. */
export function policyRef(policy: { metadata: { name: string; namespace?: string } }): string {
  const { name, namespace } = policy.metadata;
  return namespace === undefined || namespace === "" ? name : `${namespace}/${name}`;
}
