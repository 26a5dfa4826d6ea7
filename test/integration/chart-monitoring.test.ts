// The chart's dashboard and alerts against a real Prometheus scraping a real sidecar and a
// real operator. The sidecar (standalone, policy files, rate limits in a real Redis) sits
// in front of a real MCP server; a scripted MCP client makes allowed, denied,
// rate-limited, audit-only and approval calls, and lists tools whose definitions the
// policy pins otherwise (toolDefinitions mode audit); the operator reports a policy whose
// pod carries no sidecar. A second, standalone sidecar (a policy without a namespace, scraped
// by a plain static job with no namespace or pod label, as a user outside Kubernetes would)
// serves a few calls of its own. Then:
// - every query of every dashboard panel returns a series (a misspelled metric would not),
// - the core panels show the standalone sidecar's data when its job is picked,
// - `promtool check rules` accepts the rendered PrometheusRule,
// - every alert reaches ALERTS{alertstate="firing"}, with its `for:` shortened through values.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dump } from "js-yaml";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { controlPlane, createNamespace, applyCrds, kubectlOk, repoRoot, run } from "../harness/index.ts";
import { freePort } from "../harness/free-port.ts";
import { ManagedProcess } from "../harness/managed-process.ts";
import { startFeatureHttpServer, type FeatureHttpServer } from "../support/mcp-feature-server.ts";
import { startRedisServer, type RedisServer } from "../support/redis-server.ts";
import { at, chartDir, findObject, renderChart, type JsonObject } from "./chart-helm.ts";

const PROMETHEUS = "/usr/bin/prometheus";
const PROMTOOL = "/usr/bin/promtool";
const SIDECAR_NAMESPACE = "agents";
/** The standalone sidecar's scrape job: no namespace, pod or container label. */
const STANDALONE_JOB = "standalone-sidecar";
const STANDALONE_POLICY = { apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpPolicy", metadata: { name: "demo" }, spec: { default: "deny", tools: { echo: {} } } };
/** The panels a standalone sidecar (no operator, no approvals, no rate limits) must fill. */
const CORE_PANELS = [
  "Calls per second by decision",
  "Allowed vs. refused (share of decided calls)",
  "Denials by tool and policy",
  "Top denied tools (range)",
  "Sidecar overhead p99 by method",
  "Upstream p99 by method",
  "Policy revisions in force",
  "Sidecars connected to the operator",
];
const ALERT_NAMES = ["McpWardenDenialRateSpike", "McpWardenPolicyNotProgrammed", "McpWardenRateLimitStoreFallback", "McpWardenSidecarDisconnected", "McpWardenToolDefinitionChanged"];
/** A pin no definition has: the listing counts a change for echo (audit mode: nothing is refused). */
const NOBODYS_DIGEST = `sha256:${"0".repeat(64)}`;

const TOOLS_POLICY = {
  apiVersion: "mcpwarden.dev/v1alpha1",
  kind: "McpPolicy",
  metadata: { name: "tools", namespace: SIDECAR_NAMESPACE },
  spec: {
    selector: {},
    default: "deny",
    tools: {
      echo: {},
      list_runs: {},
      run_test_iteration: { limits: [{ counter: "test_runs", window: "minute", max: 2 }] },
      deploy: { action: "approve", approval: { timeout: "1m" } },
    },
    toolDefinitions: { mode: "audit", pins: { echo: NOBODYS_DIGEST } },
  },
};
// Audit mode: decides and counts, never blocks. It would deny run_test_iteration.
const AUDIT_POLICY = {
  apiVersion: "mcpwarden.dev/v1alpha1",
  kind: "McpPolicy",
  metadata: { name: "audit-probe", namespace: SIDECAR_NAMESPACE },
  spec: { selector: {}, mode: "audit", default: "deny", tools: { echo: {}, list_runs: {} } },
};

interface Running {
  dir: string;
  upstream: FeatureHttpServer;
  redis: RedisServer;
  sidecar: ManagedProcess;
  sidecarPort: number;
  operator: ManagedProcess;
  prometheus: ManagedProcess;
  prometheusUrl: string;
  client?: Client;
  workload?: { stop(): Promise<void> };
  standaloneClient?: Client;
}

let running: Running | undefined;
const processes: ManagedProcess[] = [];

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", (error) => resolve({ status: 0, body: error.message }));
    req.end();
  });
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, diagnostics: () => string = () => ""): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${diagnostics()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const logTail = (process_: ManagedProcess): string => {
  try {
    return `--- ${process_.name} ---\n${readFileSync(process_.logFile, "utf8").slice(-3000)}`;
  } catch {
    return `--- ${process_.name}: no log ---`;
  }
};

function start(name: string, command: string, args: string[], dir: string): ManagedProcess {
  const process_ = new ManagedProcess({ name, command, args, logFile: join(dir, `${name}.log`) });
  processes.push(process_);
  return process_;
}

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

async function promQuery(prometheusUrl: string, query: string): Promise<PromSample[]> {
  const { status, body } = await httpGet(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
  if (status !== 200) throw new Error(`Prometheus refused ${query} (${status}): ${body}`);
  return (JSON.parse(body) as { data: { result: PromSample[] } }).data.result;
}

/** A panel query as Grafana would send it with every variable at "All" (or `job` picked). */
function withDashboardVariables(expr: string, job = ".*"): string {
  return expr
    .replaceAll("$cluster", ".*")
    .replaceAll("$job", job)
    .replaceAll("$namespace", ".*")
    .replaceAll("$policy", ".*")
    .replaceAll("$__rate_interval", "1m")
    .replaceAll("$__range", "10m");
}

/** The chart's rules with every `for:` at 1s, a low denial threshold and a short window. */
async function renderedRules(values: JsonObject): Promise<{ groups: JsonObject[] }> {
  const { objects } = await renderChart({ monitoring: { enabled: true, ...values } });
  return { groups: at(findObject(objects, "PrometheusRule"), "spec", "groups") as JsonObject[] };
}

/** Approves the first pending approval of `tool` through the sidecar's admin API, as `mcp-warden approve` would. */
async function approvePending(adminUrl: string, tool: string): Promise<void> {
  const name = await waitFor(`a pending approval of ${tool}`, 30_000, async () => {
    const { status, body } = await httpGet(`${adminUrl}/v1/approvals`);
    if (status !== 200) return undefined;
    return (JSON.parse(body) as { items: { name: string; phase: string; tool: string }[] }).items.find((item) => item.phase === "Pending" && item.tool === tool)?.name;
  });
  const response = await fetch(`${adminUrl}/v1/approvals/${encodeURIComponent(name)}/approve`, { method: "POST" });
  expect(response.status).toBe(200);
}

/** Calls the scripted workload makes once; then denials keep coming until stopped. */
async function scriptedWorkload(client: Client, adminUrl: string): Promise<{ stop(): Promise<void> }> {
  const text = (result: unknown): string => JSON.stringify(result);
  await client.listTools();
  for (let i = 0; i < 5; i++) expect(text(await client.callTool({ name: "echo", arguments: { text: `hello ${i}` } }))).toContain(`hello ${i}`);
  // Two within the limit (the audit policy would deny them), then two rate-limited.
  const runs = [];
  for (let i = 0; i < 4; i++) runs.push(await client.callTool({ name: "run_test_iteration", arguments: { iterations: 1 } }));
  expect(runs.filter((result) => result.isError === true)).toHaveLength(2);
  expect(text(runs[3])).toContain("rate_limited");
  // Held until a person approves it on the admin port, then made.
  const held = client.callTool({ name: "deploy", arguments: { target: "staging-1" } });
  await approvePending(adminUrl, "deploy");
  const approved = await held;
  expect(approved.isError).toBeFalsy();
  expect(text(approved)).toContain("deploy ran with");
  let stopped = false;
  const loop = (async () => {
    // Bounded: at most 4 calls a second for at most 3 minutes.
    for (let i = 0; i < 720 && !stopped; i++) {
      await client.callTool({ name: "delete_all", arguments: {} }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "chart-monitoring-"));
  const upstream = await startFeatureHttpServer();
  const redis = await startRedisServer();

  const policyDir = join(dir, "policies");
  mkdirSync(policyDir);
  writeFileSync(join(policyDir, "tools.yaml"), dump(TOOLS_POLICY));
  writeFileSync(join(policyDir, "audit-probe.yaml"), dump(AUDIT_POLICY));
  const [sidecarPort, sidecarAdmin] = [await freePort(), await freePort()];
  const cli = join(repoRoot(), "cli", "main.ts");
  const sidecar = start("sidecar", process.execPath, [
    cli,
    "sidecar",
    `--listen=127.0.0.1:${sidecarPort}`,
    `--admin=127.0.0.1:${sidecarAdmin}`,
    `--upstream=${upstream.url}`,
    `--policy=${policyDir}`,
    `--redis=${redis.url}`,
    "--rate-limit-failure-mode=local",
  ], dir);
  await waitFor("the sidecar to be ready", 30_000, async () => ((await httpGet(`http://127.0.0.1:${sidecarAdmin}/readyz`)).status === 200 ? true : undefined), () => logTail(sidecar));
  writeFileSync(join(dir, "standalone.yaml"), dump(STANDALONE_POLICY));
  const [standalonePort, standaloneAdmin] = [await freePort(), await freePort()];
  const standalone = start("standalone-sidecar", process.execPath, [
    cli,
    "sidecar",
    `--listen=127.0.0.1:${standalonePort}`,
    `--admin=127.0.0.1:${standaloneAdmin}`,
    `--upstream=${upstream.url}`,
    `--policy=${join(dir, "standalone.yaml")}`,
  ], dir);
  await waitFor("the standalone sidecar to be ready", 30_000, async () => ((await httpGet(`http://127.0.0.1:${standaloneAdmin}/readyz`)).status === 200 ? true : undefined), () => logTail(standalone));

  // The operator reports a policy whose selected pod carries no sidecar: Programmed=False.
  await applyCrds();
  const operatorNamespace = await createNamespace("chart-mon-system");
  const agents = await createNamespace("chart-mon-agents");
  const policy = { apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpPolicy", metadata: { name: "unprotected", namespace: agents }, spec: { selector: { matchLabels: { app: "mcp" } }, tools: { echo: {} } } };
  const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "bare-mcp-server", namespace: agents, labels: { app: "mcp" } }, spec: { serviceAccountName: "default", containers: [{ name: "mcp", image: "example.invalid/mcp:1" }] } };
  await kubectlOk(["create", "-f", "-"], { input: JSON.stringify(policy) });
  await kubectlOk(["create", "-f", "-"], { input: JSON.stringify(pod) });
  const [webhookPort, streamPort, operatorAdmin] = [await freePort(), await freePort(), await freePort()];
  const operator = start("operator", process.execPath, [
    cli,
    "operator",
    `--kubeconfig=${controlPlane().kubeconfig}`,
    `--namespace=${operatorNamespace}`,
    "--bind-address=127.0.0.1",
    `--webhook-port=${webhookPort}`,
    `--stream-port=${streamPort}`,
    `--admin-port=${operatorAdmin}`,
    "--lease-name=chart-monitoring",
    "--lease-duration=3",
    "--renew-deadline=2",
    "--retry-period=0.5",
  ], dir);
  await waitFor("the operator to report the policy", 60_000, async () => {
    const { body } = await httpGet(`http://127.0.0.1:${operatorAdmin}/metrics`);
    return /mcpwarden_operator_policy_condition\{[^}]*type="Programmed"[^}]*\} 0/.test(body) ? true : undefined;
  }, () => logTail(operator));

  // Prometheus: the sidecar as the PodMonitor would label it, the operator as the
  // ServiceMonitor would (honor_labels keeps the policy's own namespace label).
  const rules = await renderedRules({
    rules: {
      denialRateThreshold: 0.5,
      denialRateWindow: "20s",
      // Longer than the run: the alert fires for this long after the change, then ends.
      toolDefinitionWindow: "10m",
      for: { denialRateSpike: "1s", sidecarsDisconnected: "1s", policyNotProgrammed: "1s", rateLimitStoreFallback: "1s", toolDefinitionChanged: "1s" },
    },
  });
  writeFileSync(join(dir, "rules.yaml"), dump(rules));
  const prometheusPort = await freePort();
  const config = {
    global: { scrape_interval: "1s", evaluation_interval: "1s", scrape_timeout: "900ms" },
    rule_files: [join(dir, "rules.yaml")],
    scrape_configs: [
      { job_name: "mcp-warden-sidecars", static_configs: [{ targets: [`127.0.0.1:${sidecarAdmin}`], labels: { namespace: SIDECAR_NAMESPACE, pod: "mcp-server-0", container: "mcp-warden" } }] },
      { job_name: STANDALONE_JOB, static_configs: [{ targets: [`127.0.0.1:${standaloneAdmin}`] }] },
      { job_name: "mcp-warden-operator", honor_labels: true, static_configs: [{ targets: [`127.0.0.1:${operatorAdmin}`], labels: { namespace: operatorNamespace, pod: "operator-0" } }] },
    ],
  };
  writeFileSync(join(dir, "prometheus.yml"), dump(config));
  const prometheus = start("prometheus", PROMETHEUS, [
    `--config.file=${join(dir, "prometheus.yml")}`,
    `--storage.tsdb.path=${join(dir, "tsdb")}`,
    `--web.listen-address=127.0.0.1:${prometheusPort}`,
    "--storage.tsdb.retention.time=1h",
    "--log.level=warn",
  ], dir);
  const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  await waitFor("Prometheus to be ready", 60_000, async () => ((await httpGet(`${prometheusUrl}/-/ready`)).status === 200 ? true : undefined), () => logTail(prometheus));

  running = { dir, upstream, redis, sidecar, sidecarPort, operator, prometheus, prometheusUrl };
  const client = new Client({ name: "chart-monitoring-workload", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${sidecarPort}/mcp`)));
  running.client = client;
  running.workload = await scriptedWorkload(client, `http://127.0.0.1:${sidecarAdmin}`);
  // The standalone sidecar: allowed and denied calls, kept coming like the main workload's.
  const standaloneClient = new Client({ name: "standalone-workload", version: "1.0.0" });
  await standaloneClient.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${standalonePort}/mcp`)));
  running.standaloneClient = standaloneClient;
  for (let i = 0; i < 3; i++) {
    expect((await standaloneClient.callTool({ name: "echo", arguments: { text: "standalone" } })).isError).toBeFalsy();
    expect((await standaloneClient.callTool({ name: "delete_all", arguments: {} })).isError).toBe(true);
  }

  // Redis goes away: the next limited call falls back to local counting.
  await redis.stop();
  await client.callTool({ name: "run_test_iteration", arguments: { iterations: 1 } });
  await waitFor("the sidecar to report the rate-limit store fallback", 30_000, async () => {
    const { body } = await httpGet(`http://127.0.0.1:${sidecarAdmin}/metrics`);
    return /^mcpwarden_rate_limit_store_fallback 1$/m.test(body) ? true : undefined;
  }, () => logTail(sidecar));
}, 240_000);

afterAll(async () => {
  await running?.workload?.stop().catch(() => undefined);
  await running?.client?.close().catch(() => undefined);
  await running?.standaloneClient?.close().catch(() => undefined);
  for (const process_ of processes.reverse()) await process_.stop(5_000);
  await running?.redis.stop();
  await running?.upstream.close();
}, 60_000);

describe("promtool", () => {
  it.each([
    ["the default values", {}],
    ["shortened for: durations", { rules: { for: { denialRateSpike: "1s", sidecarsDisconnected: "1s", policyNotProgrammed: "1s", rateLimitStoreFallback: "1s", toolDefinitionChanged: "1s" } } }],
  ])("check rules accepts the PrometheusRule rendered with %s", async (_name, values) => {
    const file = join(mkdtempSync(join(tmpdir(), "chart-rules-")), "rules.yaml");
    writeFileSync(file, dump(await renderedRules(values as JsonObject)));
    const result = await run(PROMTOOL, ["check", "rules", file]);
    expect(result.stdout + result.stderr).toContain("SUCCESS: 5 rules found");
    expect(result.code).toBe(0);
  });
});

describe("the dashboard against Prometheus", () => {
  const dashboard = JSON.parse(readFileSync(join(chartDir(), "dashboards", "mcp-warden.json"), "utf8")) as JsonObject;
  const panels = (dashboard.panels as JsonObject[]).filter((panel) => panel.type !== "row");

  it("finds the namespace and policy variables' values", async () => {
    const { prometheusUrl } = running as Running;
    const labelValues = async (label: string): Promise<string[]> => {
      const { body } = await httpGet(`${prometheusUrl}/api/v1/label/${label}/values?match[]=mcpwarden_tool_calls_total`);
      return (JSON.parse(body) as { data: string[] }).data;
    };
    // Both sidecars' series: the standalone one's may be scraped first.
    await waitFor("tool call series of both sidecars", 30_000, async () => ((await labelValues("policy")).length >= 3 ? true : undefined));
    // The standalone sidecar's series have no namespace: only the cluster's is offered.
    expect(await labelValues("namespace")).toEqual([SIDECAR_NAMESPACE]);
    expect((await labelValues("policy")).sort()).toEqual([`${SIDECAR_NAMESPACE}/audit-probe`, `${SIDECAR_NAMESPACE}/tools`, "demo"]);
  });

  it("every panel's every query returns a series (after Prometheus has scraped the workload)", async () => {
    const { prometheusUrl } = running as Running;
    const targets = panels.flatMap((panel) => (panel.targets as JsonObject[]).map((target) => ({ panel: String(panel.title), expr: String(target.expr) })));
    expect(targets.length).toBeGreaterThan(15);
    const empty = async (): Promise<string[]> => {
      const found: string[] = [];
      for (const { panel, expr } of targets) {
        if ((await promQuery(prometheusUrl, withDashboardVariables(expr))).length === 0) found.push(`${panel}: ${expr}`);
      }
      return found;
    };
    let last: string[] = [];
    await waitFor(
      "every panel to have data",
      60_000,
      async () => {
        last = await empty();
        return last.length === 0 ? true : undefined;
      },
      () => `empty:\n  ${last.join("\n  ")}`,
    );
    expect(await empty()).toEqual([]);
  });

  it("shows the approved deploy under Approval outcomes", async () => {
    const { prometheusUrl } = running as Running;
    const expr = String(at(panels.find((panel) => panel.title === "Approval outcomes") as JsonObject, "targets", 0, "expr"));
    const outcomes = await waitFor("an approval outcome", 30_000, async () => {
      const found = (await promQuery(prometheusUrl, withDashboardVariables(expr))).map((sample) => sample.metric.outcome);
      return found.length > 0 ? found : undefined;
    });
    expect(outcomes).toContain("approved");
  });

  it("a standalone sidecar's metrics fill the core panels (its job picked; its policy named without a namespace)", async () => {
    const { prometheusUrl } = running as Running;
    const coreTargets = panels
      .filter((panel) => CORE_PANELS.includes(String(panel.title)))
      .flatMap((panel) => (panel.targets as JsonObject[]).map((target) => ({ panel: String(panel.title), expr: String(target.expr) })));
    expect(new Set(coreTargets.map((target) => target.panel)).size).toBe(CORE_PANELS.length);
    let empty: string[] = [];
    await waitFor(
      "the core panels to show the standalone sidecar",
      60_000,
      async () => {
        empty = [];
        for (const { panel, expr } of coreTargets) if ((await promQuery(prometheusUrl, withDashboardVariables(expr, STANDALONE_JOB))).length === 0) empty.push(`${panel}: ${expr}`);
        return empty.length === 0 ? true : undefined;
      },
      () => `empty:\n  ${empty.join("\n  ")}`,
    );
    // Its denials are its own policy's, by the name the user wrote.
    const denials = String(at(panels.find((panel) => panel.title === "Denials by tool and policy") as JsonObject, "targets", 0, "expr"));
    expect((await promQuery(prometheusUrl, withDashboardVariables(denials, STANDALONE_JOB))).map((sample) => sample.metric.policy)).toEqual(["demo"]);
    // The variables: the job is offered, and the policy variable's regex keeps "demo" whole.
    const { body } = await httpGet(`${prometheusUrl}/api/v1/label/job/values?match[]=mcpwarden_tool_calls_total`);
    expect((JSON.parse(body) as { data: string[] }).data).toContain(STANDALONE_JOB);
    const policyVariable = (dashboard.templating as { list: JsonObject[] }).list.find((variable) => variable.name === "policy") as JsonObject;
    const regex = /^\/(.*)\/$/.exec(String(policyVariable.regex))?.[1] ?? "";
    expect(["demo", `${SIDECAR_NAMESPACE}/tools`].map((value) => new RegExp(regex).exec(value)?.[1])).toEqual(["demo", "tools"]);
  });

  it("would notice a misspelled metric", async () => {
    const { prometheusUrl } = running as Running;
    const expr = String(at(panels.find((panel) => String(panel.title).startsWith("Denials by tool")) as JsonObject, "targets", 0, "expr"));
    expect((await promQuery(prometheusUrl, withDashboardVariables(expr))).length).toBeGreaterThan(0);
    const misspelled = withDashboardVariables(expr.replace("mcpwarden_tool_calls_total", "mcpwarden_tool_call_total"));
    expect(await promQuery(prometheusUrl, misspelled)).toEqual([]);
  });
});

describe("the alerts", () => {
  it("each reaches ALERTS{alertstate=\"firing\"} under the workload built for it", async () => {
    const { prometheusUrl } = running as Running;
    let firing: string[] = [];
    await waitFor(
      "every alert to fire",
      90_000,
      async () => {
        firing = [...new Set((await promQuery(prometheusUrl, 'ALERTS{alertstate="firing"}')).map((sample) => sample.metric.alertname as string))].sort();
        return ALERT_NAMES.every((name) => firing.includes(name)) ? true : undefined;
      },
      () => `firing: ${firing.join(", ") || "none"}`,
    );
    const alerts = await promQuery(prometheusUrl, 'ALERTS{alertstate="firing"}');
    const labelsOf = (name: string): Record<string, string> => (alerts.find((sample) => sample.metric.alertname === name) as PromSample).metric;
    expect(labelsOf("McpWardenDenialRateSpike")).toMatchObject({ namespace: SIDECAR_NAMESPACE, policy: `${SIDECAR_NAMESPACE}/tools`, severity: "warning" });
    expect(labelsOf("McpWardenPolicyNotProgrammed")).toMatchObject({ policy: "unprotected" });
    expect(labelsOf("McpWardenRateLimitStoreFallback")).toMatchObject({ namespace: SIDECAR_NAMESPACE, pod: "mcp-server-0" });
    expect(labelsOf("McpWardenSidecarDisconnected")).toMatchObject({ namespace: SIDECAR_NAMESPACE, pod: "mcp-server-0" });
    expect(alerts.filter((sample) => sample.metric.alertname === "McpWardenToolDefinitionChanged").map((sample) => sample.metric)).toContainEqual(
      expect.objectContaining({ namespace: SIDECAR_NAMESPACE, policy: `${SIDECAR_NAMESPACE}/tools`, tool: "echo", severity: "warning" }),
    );
  });
});
