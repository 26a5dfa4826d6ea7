import { describe, expect, it } from "vitest";
import { compilePolicies, readMcpPolicy, type Decision } from "../../policy/index.ts";
import type { DecisionRecord, PolicySnapshot } from "../contracts.ts";
import { SidecarMetrics } from "./sidecar-metrics.ts";
import { testCache } from "../../test/support/policy-engines.ts";

function snapshot(revision: string): PolicySnapshot {
  const read = readMcpPolicy({
    apiVersion: "mcpwarden.dev/v1alpha1",
    kind: "McpPolicy",
    metadata: { name: "demo" },
    spec: { default: "deny", hide: ["debug_dump", "secret_*"], tools: { list_runs: {}, "run_*": {} } },
  }, testCache());
  if (!read.ok) throw new Error(JSON.stringify(read.problems));
  const compiled = compilePolicies([read.policy], testCache());
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  return { table: compiled.table, revision, policies: ["demo.yaml"] };
}

const decision = (kind: Decision["decision"], extra: Partial<Decision> = {}): Decision => ({ decision: kind, policy: "demo", rule: "default", reason: "r", ...extra });
const record = (tool: string, d: Decision, extra: Partial<DecisionRecord> = {}): DecisionRecord => ({ tool, decision: d, mode: "enforce", callerId: "agent", argumentDigest: "0".repeat(64), ...extra });

describe("SidecarMetrics", () => {
  it("registers exactly the sidecar metrics of ARCHITECTURE.md in its own registry", async () => {
    const metrics = new SidecarMetrics({ processMetrics: false });
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(names).toEqual([
      "mcpwarden_approval_wait_seconds",
      "mcpwarden_approvals_pending",
      "mcpwarden_approvals_total",
      "mcpwarden_control_plane_connected",
      "mcpwarden_policy_load_errors_total",
      "mcpwarden_policy_revision",
      "mcpwarden_rate_limit_evictions_total",
      "mcpwarden_rate_limit_hits_total",
      "mcpwarden_rate_limit_store_fallback",
      "mcpwarden_request_duration_seconds",
      "mcpwarden_tool_calls_total",
      "mcpwarden_tool_definition_changes_total",
      "mcpwarden_upstream_duration_seconds",
    ]);
    const text = await metrics.exposition();
    expect(text).toContain("mcpwarden_control_plane_connected 0");
    expect(text).toContain("mcpwarden_rate_limit_store_fallback 0");
  });

  it("labels tools by the policy's exact names and the upstream's tools/list, others as _other", async () => {
    const metrics = new SidecarMetrics({ processMetrics: false });
    metrics.policyApplied(snapshot("r1"));
    metrics.onDecision(record("list_runs", decision("allow")));
    metrics.onDecision(record("debug_dump", decision("deny")));
    metrics.onDecision(record("run_anything", decision("allow")));
    metrics.onDecision(record("random-1", decision("deny")));
    metrics.onDecision(record("random-2", decision("deny")));
    metrics.observeToolsList(["run_anything"]);
    metrics.onDecision(record("run_anything", decision("allow"), { mode: "audit" }));
    const text = await metrics.exposition();
    expect(text).toContain('mcpwarden_tool_calls_total{tool="list_runs",decision="allow",policy="demo",mode="enforce"} 1');
    expect(text).toContain('mcpwarden_tool_calls_total{tool="debug_dump",decision="deny",policy="demo",mode="enforce"} 1');
    expect(text).toContain('mcpwarden_tool_calls_total{tool="_other",decision="allow",policy="demo",mode="enforce"} 1');
    expect(text).toContain('mcpwarden_tool_calls_total{tool="_other",decision="deny",policy="demo",mode="enforce"} 2');
    expect(text).toContain('mcpwarden_tool_calls_total{tool="run_anything",decision="allow",policy="demo",mode="audit"} 1');
    expect(text).not.toContain("random");
  });

  it("counts rate-limit hits by tool and counter", async () => {
    const metrics = new SidecarMetrics({ processMetrics: false });
    metrics.policyApplied(snapshot("r1"));
    metrics.onDecision(record("list_runs", decision("rate_limited", { retryAfterSeconds: 3 }), { rateLimitCounter: "runs" }));
    expect(await metrics.exposition()).toContain('mcpwarden_rate_limit_hits_total{tool="list_runs",counter="runs"} 1');
  });

  it("times requests by method from a fixed list, in buckets from 50 µs", async () => {
    const metrics = new SidecarMetrics({ processMetrics: false });
    metrics.observeRequestDuration("tools/call", 0.00003);
    metrics.observeRequestDuration("made/up", 0.002);
    metrics.observeUpstreamDuration("tools/call", 0.01);
    const text = await metrics.exposition();
    expect(text).toContain('mcpwarden_request_duration_seconds_bucket{le="0.00005",method="tools/call"} 1');
    expect(text).toContain('mcpwarden_request_duration_seconds_count{method="other"} 1');
    expect(text).toContain('mcpwarden_upstream_duration_seconds_bucket{le="0.01",method="tools/call"} 1');
    expect(text).not.toContain("made/up");
  });

  it("shows one policy revision at a time and counts load errors", async () => {
    const metrics = new SidecarMetrics({ processMetrics: false });
    expect(await metrics.exposition()).not.toMatch(/mcpwarden_policy_revision\{/);
    metrics.policyApplied(snapshot("aaa"));
    metrics.policyApplied(snapshot("bbb"));
    metrics.policyLoadFailed();
    const text = await metrics.exposition();
    expect(text).toContain('mcpwarden_policy_revision{revision="bbb"} 1');
    expect(text).not.toContain('revision="aaa"');
    expect(text).toContain("mcpwarden_policy_load_errors_total 1");
  });

  it("feeds the store and approval metrics", async () => {
    const metrics = new SidecarMetrics({ processMetrics: false });
    metrics.setRateLimitFallback(true);
    metrics.rateLimitStoreFull();
    metrics.approvalRequested();
    metrics.approvalRequested();
    metrics.approvalFinished("nope", "approved", 12);
    const text = await metrics.exposition();
    expect(text).toContain("mcpwarden_rate_limit_store_fallback 1");
    expect(text).toContain("mcpwarden_rate_limit_evictions_total 1");
    expect(text).toContain("mcpwarden_approvals_pending 1");
    expect(text).toContain('mcpwarden_approvals_total{tool="_other",outcome="approved"} 1');
    expect(text).toContain("mcpwarden_approval_wait_seconds_count 1");
  });

  it("counts a new definition once per policy that has not pinned it", async () => {
    const metrics = new SidecarMetrics({ processMetrics: false });
    metrics.policyApplied(snapshot("aaa"));
    const digest = `sha256:${"a".repeat(64)}`;
    metrics.onToolDefinition({ tool: "list_runs", digest, previous: undefined, unpinned: [] });
    metrics.onToolDefinition({
      tool: "list_runs",
      digest,
      previous: `sha256:${"b".repeat(64)}`,
      unpinned: [
        { policy: "agents/a", pinned: `sha256:${"b".repeat(64)}`, mode: "pin" },
        { policy: "agents/b", pinned: undefined, mode: "audit" },
      ],
    });
    metrics.onToolDefinition({ tool: "unheard_of", digest, previous: undefined, unpinned: [{ policy: "agents/a", pinned: undefined, mode: "pin" }] });
    const text = await metrics.exposition();
    expect(text).toContain('mcpwarden_tool_definition_changes_total{tool="list_runs",policy="agents/a"} 1');
    expect(text).toContain('mcpwarden_tool_definition_changes_total{tool="list_runs",policy="agents/b"} 1');
    expect(text).toContain('mcpwarden_tool_definition_changes_total{tool="_other",policy="agents/a"} 1');
  });

  it("adds Node's process metrics by default", async () => {
    expect(await new SidecarMetrics().exposition()).toContain("process_resident_memory_bytes");
  });
});

describe("ToolLabeler fed by the proxy's listed names", () => {
  it("labels a name the upstream listed, read from the proxy on demand", async () => {
    const metrics = new SidecarMetrics({ processMetrics: false });
    const listed = new Set<string>();
    metrics.tools.useUpstreamTools(() => listed);
    expect(metrics.tools.label("late_tool")).toBe("_other");
    listed.add("late_tool");
    expect(metrics.tools.label("late_tool")).toBe("late_tool");
  });
});
