// `kubectl mcpwarden analyze` against the real API server: every finding appears with a
// fixture that has the problem and is gone once the fixture is fixed, and the exit code
// says whether an error was found. No operator runs here: McpPolicy status is written
// through the status subresource as the operator would write it (analyze reads only API
// objects), and injected pods carry the label the webhook would set.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { applyCrds, controlPlane, createNamespace as createHarnessNamespace, kubectlOk, repoRoot, run } from "../harness/index.ts";

interface Finding {
  code: string;
  severity: string;
  object: { kind: string; namespace: string; name: string };
  message: string;
  fix: string;
}

const plugin = (args: string[]) =>
  run(process.execPath, [join(repoRoot(), "cli", "kubectl-mcpwarden.ts"), ...args], {
    env: { ...process.env, MCPWARDEN_KUBECTL: controlPlane().kubectl, KUBECONFIG: controlPlane().kubeconfig },
  });

async function analyze(namespace: string): Promise<{ code: number; findings: Finding[] }> {
  const result = await plugin(["analyze", "-n", namespace, "-o", "json"]);
  expect(result.stderr).toBe("");
  return { code: result.code, findings: (JSON.parse(result.stdout) as { findings: Finding[] }).findings };
}

const codes = (findings: Finding[]): string[] => findings.map((finding) => `${finding.code} ${finding.object.kind}/${finding.object.name}`).sort();

function pod(name: string, options: { labels?: Record<string, string>; annotations?: Record<string, string>; injected?: boolean } = {}): object {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      labels: { app: "mcp", ...(options.injected === true ? { "mcpwarden.dev/injected": "true" } : {}), ...options.labels },
      annotations: { ...(options.injected === true ? { "mcpwarden.dev/upstream-port": "8080" } : {}), ...options.annotations },
    },
    spec: { containers: [{ name: "server", image: "example.invalid/mcp:1", ports: [{ name: "http", containerPort: 8080 }] }] },
  };
}

function policy(name: string, spec: Record<string, unknown>): object {
  return { apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpPolicy", metadata: { name }, spec: { selector: { matchLabels: { app: "mcp" } }, ...spec } };
}

const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, observedGeneration: 1, lastTransitionTime: "2026-01-01T00:00:00Z" });

async function apply(namespace: string, ...objects: object[]): Promise<void> {
  await kubectlOk(["apply", "-n", namespace, "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }) });
}

/** Status as the operator writes it: Accepted and Programmed True unless said otherwise. */
async function setStatus(namespace: string, name: string, accepted = condition("Accepted", "True", "Accepted", "the policy is valid"), programmed = condition("Programmed", "True", "Programmed", "all selected pods enforce the current revision")): Promise<void> {
  const status = { observedGeneration: 1, conditions: [accepted, programmed], targets: { pods: 1, inSync: 1, unprotected: 0 } };
  await kubectlOk(["patch", "mcppolicies.mcpwarden.dev", name, "-n", namespace, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status })]);
}

/** A namespace holding a healthy injected pod and the policy selecting it, in sync. */
async function healthyNamespace(prefix: string, spec: Record<string, unknown> = { tools: { list_runs: {} } }): Promise<string> {
  const namespace = await createNamespace(prefix);
  await apply(namespace, pod("server-0", { injected: true }), policy("main", spec));
  await setStatus(namespace, "main");
  await syncSidecars(namespace);
  return namespace;
}

/** Annotates every flagged pod with the revision analyze says is current, as an acking sidecar would. */
async function syncSidecars(namespace: string): Promise<void> {
  for (const finding of (await analyze(namespace)).findings.filter((candidate) => candidate.code === "MW006")) {
    const revision = /current revision is ([0-9a-f]+)/.exec(finding.message)?.[1];
    expect(revision, finding.message).toBeDefined();
    await kubectlOk(["annotate", "pod", finding.object.name, "-n", namespace, "--overwrite", `mcpwarden.dev/applied-revision=${revision}`]);
  }
}

/** Namespaces are never finalized here: what they hold is deleted, or an operator another suite runs would reconcile these policies. */
const created: string[] = [];
async function createNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const namespace = await createHarnessNamespace(prefix, labels);
  created.push(namespace);
  return namespace;
}

beforeAll(async () => {
  await applyCrds();
});

afterAll(async () => {
  for (const namespace of created) await kubectlOk(["delete", "mcppolicies.mcpwarden.dev,pods,services", "--all", "-n", namespace, "--wait=false", "--grace-period=0", "--force"]);
});

describe("kubectl mcpwarden analyze", () => {
  it("finds nothing in a healthy namespace: exit 0 and one line saying so", async () => {
    const namespace = await healthyNamespace("analyze-healthy");
    expect(await analyze(namespace)).toEqual({ code: 0, findings: [] });
    const text = await plugin(["analyze", "-n", namespace]);
    expect([text.code, text.stdout]).toEqual([0, `No problems found in namespace ${namespace}.\n`]);
  });

  it("MW001: a pod of an injection-enabled namespace without the upstream-port annotation; gone once recreated with it (or opted out)", async () => {
    const namespace = await createNamespace("analyze-mw001", { "mcpwarden.dev/inject": "enabled" });
    await apply(namespace, pod("plain", { labels: { app: "other" } }), pod("opted-out", { labels: { app: "other", "mcpwarden.dev/inject": "false" } }));
    const found = await analyze(namespace);
    expect(codes(found.findings)).toEqual(["MW001 Pod/plain"]);
    expect(found.code).toBe(1);
    expect(found.findings[0]?.fix).toContain("mcpwarden.dev/upstream-port");
    const text = await plugin(["analyze", "-n", namespace]);
    expect(text.stdout).toMatch(new RegExp(`^Error \\[MW001\\] \\(Pod ${namespace}/plain\\) runs without the mcp-warden sidecar.*\\n    fix: add the annotation`));
    await kubectlOk(["delete", "pod", "plain", "-n", namespace, "--wait=false"]);
    await apply(namespace, pod("plain", { labels: { app: "other" }, annotations: { "mcpwarden.dev/upstream-port": "http" } }));
    expect(codes((await analyze(namespace)).findings)).toEqual([]);
  });

  it("MW002: an injected pod no policy selects; gone once a policy selects it", async () => {
    const namespace = await createNamespace("analyze-mw002");
    await apply(namespace, pod("lonely", { injected: true, labels: { app: "lonely" } }));
    expect(codes((await analyze(namespace)).findings)).toEqual(["MW002 Pod/lonely"]);
    await apply(namespace, { ...policy("lonely", { tools: { list_runs: {} } }), spec: { selector: { matchLabels: { app: "lonely" } }, tools: { list_runs: {} } } });
    await setStatus(namespace, "lonely");
    await syncSidecars(namespace);
    expect(await analyze(namespace)).toEqual({ code: 0, findings: [] });
  });

  it("MW003: a Service targeting the server's port instead of the sidecar's; gone with targetPort: mcp-warden", async () => {
    const namespace = await healthyNamespace("analyze-mw003");
    const service = (targetPort: string | number) => ({ apiVersion: "v1", kind: "Service", metadata: { name: "mcp" }, spec: { selector: { app: "mcp" }, ports: [{ name: "http", port: 80, targetPort }] } });
    await apply(namespace, service(8080));
    const found = await analyze(namespace);
    expect(codes(found.findings)).toEqual(["MW003 Service/mcp"]);
    expect(found.findings[0]?.message).toBe("port http targets 8080, the MCP server's own port on server-0: traffic through it bypasses the mcp-warden sidecar");
    await apply(namespace, service("http"));
    expect(codes((await analyze(namespace)).findings)).toEqual(["MW003 Service/mcp"]);
    await apply(namespace, service("mcp-warden"));
    expect(await analyze(namespace)).toEqual({ code: 0, findings: [] });
  });

  it("MW004: a policy without status, or not Accepted, with the condition's reason; gone once accepted", async () => {
    const namespace = await createNamespace("analyze-mw004");
    await apply(namespace, policy("unseen", { tools: { list_runs: {} } }));
    const unseen = await analyze(namespace);
    expect(codes(unseen.findings)).toEqual(["MW004 McpPolicy/unseen"]);
    expect(unseen.findings[0]?.message).toContain("no mcp-warden operator has looked at it");
    await setStatus(namespace, "unseen", condition("Accepted", "False", "Invalid", 'spec.tools["run_*"].when: does not parse'), condition("Programmed", "False", "NotAccepted", "the policy is not accepted"));
    const invalid = await analyze(namespace);
    expect(codes(invalid.findings)).toEqual(["MW004 McpPolicy/unseen"]);
    expect(invalid.findings[0]?.message).toBe('Accepted=False, reason Invalid: spec.tools["run_*"].when: does not parse');
    await setStatus(namespace, "unseen");
    expect(await analyze(namespace)).toEqual({ code: 0, findings: [] });
  });

  it("MW005: Accepted but not Programmed, with the reason (a warning: exit 0); gone once Programmed", async () => {
    const namespace = await healthyNamespace("analyze-mw005");
    await setStatus(namespace, "main", undefined, condition("Programmed", "False", "Pending", "0 of 1 selected pods enforce the current revision"));
    const found = await analyze(namespace);
    expect(found.code).toBe(0);
    expect(found.findings.map((finding) => [finding.code, finding.severity, finding.message])).toEqual([["MW005", "Warning", "Programmed=False, reason Pending: 0 of 1 selected pods enforce the current revision"]]);
    await setStatus(namespace, "main");
    expect(await analyze(namespace)).toEqual({ code: 0, findings: [] });
  });

  it("MW006: a sidecar whose applied revision is not its policies'; gone once it applies the current one", async () => {
    const namespace = await healthyNamespace("analyze-mw006");
    await kubectlOk(["annotate", "pod", "server-0", "-n", namespace, "--overwrite", "mcpwarden.dev/applied-revision=0123456789abcdef"]);
    const found = await analyze(namespace);
    expect(codes(found.findings)).toEqual(["MW006 Pod/server-0"]);
    expect(found.findings[0]?.message).toMatch(/^its sidecar applied revision 0123456789abcdef; its policies' current revision is [0-9a-f]+ /);
    // An edit to the policy is a new revision the sidecar has not applied.
    await syncSidecars(namespace);
    expect(await analyze(namespace)).toEqual({ code: 0, findings: [] });
    await apply(namespace, policy("main", { tools: { list_runs: {}, get_run: {} } }));
    expect(codes((await analyze(namespace)).findings)).toEqual(["MW006 Pod/server-0"]);
  });

  it("MW007: two policies claiming one pod with different identities; gone once they agree", async () => {
    const namespace = await healthyNamespace("analyze-mw007", { identity: { source: "header", header: "x-agent-id" }, tools: { list_runs: {} } });
    await apply(namespace, policy("second", { identity: { source: "session" }, tools: { get_run: {} } }));
    await setStatus(namespace, "second");
    await syncSidecars(namespace);
    const found = await analyze(namespace);
    expect(codes(found.findings)).toEqual(["MW007 Pod/server-0"]);
    expect(found.findings[0]?.message).toContain(`McpPolicies ${namespace}/second and ${namespace}/main both select it with different identities`);
    await apply(namespace, policy("second", { identity: { source: "header", header: "x-agent-id" }, tools: { get_run: {} } }));
    await syncSidecars(namespace);
    expect(await analyze(namespace)).toEqual({ code: 0, findings: [] });
  });

  it("MW008: two policies using one counter with different limits; gone once they agree", async () => {
    const limits = (max: number) => ({ identity: { source: "session" }, tools: { run: { limits: [{ counter: "runs", window: "minute", max }] } } });
    const namespace = await healthyNamespace("analyze-mw008", limits(10));
    await apply(namespace, policy("second", limits(20)));
    await setStatus(namespace, "second", condition("Accepted", "False", "CounterConflict", "counter runs is already used"));
    await syncSidecars(namespace);
    const found = await analyze(namespace);
    expect(codes(found.findings)).toEqual(["MW008 McpPolicy/second"]);
    expect(found.findings[0]?.message).toMatch(/^not accepted: spec\.tools\["run"\]\.limits\[0\]: counter "runs" is already used by the older policy/);
    await apply(namespace, policy("second", limits(10)));
    await setStatus(namespace, "second");
    await syncSidecars(namespace);
    expect(await analyze(namespace)).toEqual({ code: 0, findings: [] });
  });

  it("MW009: per-grant limits with no identity source (a warning); gone with an identity or scope: global", async () => {
    const limited = (extra: Record<string, unknown>, scope = "grant") => ({ ...extra, tools: { run: { limits: [{ counter: "runs", window: "minute", max: 10, scope }] } } });
    const namespace = await healthyNamespace("analyze-mw009", limited({}));
    const found = await analyze(namespace);
    expect(found.code).toBe(0);
    expect(found.findings.map((finding) => [finding.code, finding.severity])).toEqual([["MW009", "Warning"]]);
    expect(found.findings[0]?.message).toContain('per-grant limits (tools["run"].limits[0]) have no identity source');
    await apply(namespace, policy("main", limited({ identity: { source: "header", header: "x-agent-id" } })));
    await syncSidecars(namespace);
    expect(await analyze(namespace)).toEqual({ code: 0, findings: [] });
    await apply(namespace, policy("main", limited({}, "global")));
    await syncSidecars(namespace);
    expect(await analyze(namespace)).toEqual({ code: 0, findings: [] });
  });

  it("-A looks at every namespace", async () => {
    const first = await createNamespace("analyze-all-a");
    const second = await createNamespace("analyze-all-b");
    await apply(first, pod("lonely-a", { injected: true }));
    await apply(second, pod("lonely-b", { injected: true }));
    const result = await plugin(["analyze", "-A", "-o", "json"]);
    expect(result.code).toBe(1);
    const objects = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.map((finding) => `${finding.code} ${finding.object.namespace}/${finding.object.name}`);
    expect(objects).toEqual(expect.arrayContaining([`MW002 ${first}/lonely-a`, `MW002 ${second}/lonely-b`]));
  });
});
