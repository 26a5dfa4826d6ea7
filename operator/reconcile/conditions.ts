// Condition types and reasons of McpPolicy status (metav1.Condition), as named
// constants: they are API, users match on them.
import type { Condition } from "../kube-objects.ts";

export const ACCEPTED = "Accepted";
export const PROGRAMMED = "Programmed";

export const AcceptedReason = {
  /** Valid: its rules are what selected pods enforce. */
  Accepted: "Accepted",
  /** A semantic problem alone (glob, CEL, JSON Schema, counter within the policy, names). */
  Invalid: "Invalid",
  /** A counter shared with an older policy of the namespace with another window, max or scope. */
  CounterConflict: "CounterConflict",
  /**
   * Valid (status True), with a warning: its per-grant limits meet no identity source, so
   * every caller is one grant and all share one budget (policy/grant-identity.ts).
   */
  NoIdentitySource: "NoIdentitySource",
} as const;

export const ProgrammedReason = {
  /** Every selected pod carries the sidecar and applied the current revision. */
  Programmed: "Programmed",
  /** Not accepted: pods keep the last accepted version, if the operator saw one. */
  NotAccepted: "NotAccepted",
  /** Its identity disagrees with an older policy for one of its pods. */
  IdentityConflict: "IdentityConflict",
  /** A selected pod has no mcp-warden sidecar. */
  Unprotected: "Unprotected",
  /** Some sidecars have not applied the current revision yet (or are not connected). */
  Pending: "Pending",
} as const;

export const EventReason = {
  InvalidPolicy: "InvalidPolicy",
  CounterConflict: "CounterConflict",
  IdentityConflict: "IdentityConflict",
  TargetsUpstreamPort: "TargetsUpstreamPort",
  NoIdentitySource: "NoIdentitySource",
  /** A pod lists a tool definition other than the one spec.toolDefinitions pins. */
  ToolDefinitionChanged: "ToolDefinitionChanged",
  /** Pods list tools spec.toolDefinitions has no pin for. */
  ToolDefinitionUnpinned: "ToolDefinitionUnpinned",
} as const;

/**
 * The condition as it should be now, keeping lastTransitionTime from the current one
 * when the status did not change (as apimachinery's SetStatusCondition does).
 */
export function nextCondition(current: readonly Condition[] | undefined, desired: Omit<Condition, "lastTransitionTime">, now: Date): Condition {
  const previous = current?.find((condition) => condition.type === desired.type);
  const lastTransitionTime = previous !== undefined && previous.status === desired.status ? previous.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, "Z");
  return { ...desired, lastTransitionTime };
}
