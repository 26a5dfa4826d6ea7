// The policies the sidecar is benchmarked with: allow-all (the cost of the machinery
// alone) and a realistic 50-rule policy in the shape of the seeds, grown: a default deny,
// hidden tools, exact names and globs, JSON Schemas, CEL conditions, per-caller limits
// and a global one. The benchmarked call (run_test_iteration) passes a schema and a
// per-caller limit far above the load, so every call is decided and admitted.

export const ALLOW_ALL_POLICY = `apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: allow-all }
spec:
  default: allow
`;

export function realisticPolicy(): string {
  const tools: Record<string, unknown> = {
    run_test_iteration: {
      reason: "test runs hit the shared mock API",
      limits: [{ counter: "run_test_iteration_rate", window: "minute", max: 100_000, scope: "grant" }],
      arguments: {
        type: "object",
        properties: { scenario: { type: "string", maxLength: 64, pattern: "^[a-z0-9-]+$" }, iterations: { type: "integer", minimum: 1, maximum: 10 } },
        required: ["scenario"],
        additionalProperties: false,
      },
    },
  };
  for (let i = 0; i < 30; i++) {
    const name = `tool_${String(i).padStart(2, "0")}`;
    const rule: Record<string, unknown> = {};
    if (i % 3 === 0) rule["arguments"] = { type: "object", properties: { id: { type: "string", maxLength: 128 }, limit: { type: "integer", maximum: 500 } } };
    if (i % 5 === 0) rule["when"] = "has(args.id) && args.id.startsWith('staging-')";
    if (i % 4 === 0) rule["limits"] = [{ counter: `${name}_rate`, window: "hour", max: 100, scope: "grant" }];
    if (i % 7 === 6) Object.assign(rule, { action: "deny", reason: `${name} is retired` });
    tools[name] = rule;
  }
  const globs = ["read_*", "list_*", "get_*_status", "search_*", "describe_*", "db_*_query", "s3_?_get", "metrics_*", "logs_*", "trace_*"];
  for (const glob of globs) tools[glob] = { arguments: { type: "object", maxProperties: 16 } };
  const denied = ["write_*", "delete_*", "drop_*", "admin_*", "exec_*", "shell_*", "deploy_*", "rotate_*", "grant_*"];
  for (const glob of denied) tools[glob] = { action: "deny", reason: "writes need a change request" };
  const policy = {
    apiVersion: "mcpwarden.dev/v1alpha1",
    kind: "McpPolicy",
    metadata: { name: "realistic" },
    spec: {
      mode: "enforce",
      default: "deny",
      hide: ["debug_*", "internal_*"],
      identity: { source: "header", header: "x-agent-id" },
      allTools: { limits: [{ counter: "all_calls", window: "second", max: 100_000, scope: "global" }] },
      tools,
    },
  };
  return `${JSON.stringify(policy, null, 2)}\n`;
}

/** How many rules (tools entries) the realistic policy has. */
export function realisticRuleCount(): number {
  return Object.keys((JSON.parse(realisticPolicy()) as { spec: { tools: object } }).spec.tools).length;
}
