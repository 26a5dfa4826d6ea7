// Monitoring as kube-prometheus-stack users run it: a real Prometheus Operator and Prometheus
// (images built here from their Go modules, nothing pulled), and the chart's `monitoring.enabled=true` objects —
// PodMonitor, ServiceMonitor, PrometheusRule — turned into scrape configuration and rules by
// the Prometheus Operator itself. Every injected sidecar (a native sidecar: an init container)
// and every operator replica is `up`; after a scripted workload every query of the dashboard
// the chart installed returns data; a denial spike fires McpWardenDenialRateSpike (its `for:`
// shortened through the chart's values).
import { afterAll, beforeAll, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadAll } from "js-yaml";
import { prometheusOperatorBinDir } from "../harness/control-plane-bin.ts";
import { callTool, createNamespace, describeLocal, e2e, eventually, kubectl, kubectlJson, kubectlOk, mcpClient, podUrl, repoRoot, serviceUrl, stopPortForwards, upgradeRelease } from "./e2e-cluster.ts";
import { demoPolicy, deployDemoServer } from "./demo-workload.ts";

/** tools/versions.env: the Prometheus the operator's release is built against, and generates configuration for. */
const PROMETHEUS_VERSION = /^PROMETHEUS_VERSION=(\S+)$/m.exec(readFileSync(join(repoRoot(), "tools", "versions.env"), "utf8"))?.[1] ?? "";
const ALERTS = ["McpWardenDenialRateSpike", "McpWardenPolicyNotProgrammed", "McpWardenRateLimitStoreFallback", "McpWardenSidecarDisconnected", "McpWardenToolDefinitionChanged"];
const NOBODYS_DIGEST = `sha256:${"0".repeat(64)}`;

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  subjects?: { namespace?: string }[];
  spec?: { template?: { spec: { containers: { image: string; args?: string[]; imagePullPolicy?: string }[] } } };
}
interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

let monitoring = "";
let workloadNamespace = "";
let prometheusUrl = "";
let workload: { stop(): Promise<void> } | undefined;

function manifests(folder: string): Manifest[] {
  const dir = join(prometheusOperatorBinDir(), "manifests", folder);
  return readdirSync(dir)
    .filter((file) => file.endsWith(".yaml"))
    .flatMap((file) => loadAll(readFileSync(join(dir, file), "utf8")) as Manifest[]);
}

/** The release's RBAC and Deployment examples, placed in our namespace and run from our images. */
function operatorManifests(): Manifest[] {
  const images = e2e().images;
  return [...manifests("operator"), ...manifests("prometheus")].map((manifest) => {
    if (manifest.kind === "ServiceAccount" || manifest.kind === "Deployment") manifest.metadata.namespace = monitoring;
    for (const subject of manifest.subjects ?? []) subject.namespace = monitoring;
    const container = manifest.spec?.template?.spec.containers[0];
    if (container !== undefined) {
      container.image = images["prometheus-operator"]!;
      container.imagePullPolicy = "IfNotPresent";
      // No kubelet Service to maintain here; the config reloader is ours too.
      container.args = [`--prometheus-config-reloader=${images["prometheus-config-reloader"]!}`];
    }
    return manifest;
  });
}

function prometheusResource(): object {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "Prometheus",
    metadata: { name: "e2e", namespace: monitoring },
    spec: {
      replicas: 1,
      version: PROMETHEUS_VERSION,
      image: e2e().images.prometheus,
      serviceAccountName: "prometheus",
      // Every monitor and rule in every namespace, as kube-prometheus-stack selects with release labels.
      podMonitorSelector: {},
      podMonitorNamespaceSelector: {},
      serviceMonitorSelector: {},
      serviceMonitorNamespaceSelector: {},
      ruleSelector: {},
      ruleNamespaceSelector: {},
      scrapeInterval: "2s",
      evaluationInterval: "2s",
      securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
    },
  };
}

async function promQuery(query: string): Promise<PromSample[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
  if (response.status !== 200) throw new Error(`Prometheus refused ${query} (${response.status}): ${await response.text()}`);
  return ((await response.json()) as { data: { result: PromSample[] } }).data.result;
}

/** A panel query as Grafana sends it with every variable at "All" (rates over a window the workload fills). */
function withDashboardVariables(expr: string): string {
  return expr
    .replaceAll("$cluster", ".*")
    .replaceAll("$job", ".*")
    .replaceAll("$namespace", ".*")
    .replaceAll("$policy", ".*")
    .replaceAll("$__rate_interval", "5m")
    .replaceAll("$__range", "1h");
}

/** Allowed, rate-limited, argument-refused, audit-only and approval calls once; then denials until stopped. */
async function scriptedWorkload(url: string): Promise<{ stop(): Promise<void> }> {
  const { client, close } = await mcpClient(url);
  await client.listTools();
  expect((await callTool(client, "list_runs")).isError).toBe(false);
  const runs = [];
  for (let i = 0; i < 11; i++) runs.push(await callTool(client, "run_test_iteration", { scenario: "smoke" }));
  expect(runs.at(-1)?.decision?.decision).toBe("rate_limited");
  expect((await callTool(client, "get_run_logs", { run_id: "../etc/passwd" })).decision?.decision).toBe("invalid_arguments");
  // Nobody decides: the approval expires after its 2 s and the call is refused.
  expect((await callTool(client, "reset_mock_data")).isError).toBe(true);
  let stopped = false;
  const loop = (async () => {
    // Bounded: at most 4 calls a second for at most 5 minutes.
    for (let i = 0; i < 1200 && !stopped; i++) {
      await callTool(client, "deploy_mock_api", { version: "9.9.9" }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      await close();
    },
  };
}

describeLocal("the chart's monitoring objects read by a real Prometheus Operator", () => {
  beforeAll(async () => {
    monitoring = await createNamespace("e2e-monitoring", {});
    await kubectlOk(["apply", "--server-side", "-f", join(prometheusOperatorBinDir(), "manifests", "crds")]);
    await kubectlOk(["wait", "--for=condition=Established", "--timeout=60s", "crd/prometheuses.monitoring.coreos.com", "crd/podmonitors.monitoring.coreos.com", "crd/servicemonitors.monitoring.coreos.com", "crd/prometheusrules.monitoring.coreos.com"]);
    await kubectlOk(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: operatorManifests() }) });
    await kubectlOk(["-n", monitoring, "rollout", "status", "deployment/prometheus-operator", "--timeout=180s"]);
    await kubectlOk(["apply", "-f", "-"], { input: JSON.stringify(prometheusResource()) });
    await eventually("the Prometheus Operator to create Prometheus", async () => ((await kubectl(["-n", monitoring, "get", "statefulset", "prometheus-e2e"])).code === 0 ? true : undefined));
    await kubectlOk(["-n", monitoring, "rollout", "status", "statefulset/prometheus-e2e", "--timeout=300s"], { timeoutMs: 320_000 });
    prometheusUrl = await podUrl(monitoring, "prometheus-e2e-0", 9090);

    await upgradeRelease([
      "monitoring.enabled=true",
      "monitoring.scrapeInterval=2s",
      "monitoring.rules.denialRateWindow=30s",
      "monitoring.rules.for.denialRateSpike=1s",
    ]);
    workloadNamespace = await createNamespace("e2e-monitored");
    await deployDemoServer(workloadNamespace);
    await kubectlOk(["apply", "-f", "-"], {
      input: demoPolicy(workloadNamespace, (spec) => {
        (spec.tools as Record<string, { approval?: { timeout: string } }>)["reset_mock_data"]!.approval = { timeout: "2s" };
        // A pin no definition has, in audit mode: the listing counts a change, nothing is refused.
        spec.toolDefinitions = { mode: "audit", pins: { list_runs: NOBODYS_DIGEST } };
      }),
    });
    const audit = { apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpPolicy", metadata: { name: "audit-probe", namespace: workloadNamespace }, spec: { selector: { matchLabels: { "app.kubernetes.io/name": "demo-server" } }, mode: "audit", default: "deny", tools: { list_runs: {} } } };
    await kubectlOk(["apply", "-f", "-"], { input: JSON.stringify(audit) });
    await kubectlOk(["-n", workloadNamespace, "wait", "--for=condition=Programmed", "mcppolicy/demo", "mcppolicy/audit-probe", "--timeout=180s"]);
    workload = await scriptedWorkload(`${await serviceUrl(workloadNamespace, "demo-server")}/mcp`);
  }, 900_000);

  afterAll(async () => {
    await workload?.stop();
    stopPortForwards();
    if (monitoring !== "") {
      await upgradeRelease(["monitoring.enabled=false"]);
      await kubectl(["delete", "namespace", monitoring, "--wait=false"]);
    }
  }, 300_000);

  it("scrapes every injected sidecar (an init container's port) through the PodMonitor and every operator replica through the ServiceMonitor", async () => {
    const pods = await kubectlJson<{ items: { metadata: { name: string; namespace: string; deletionTimestamp?: string }; status: { phase: string } }[] }>(["get", "pods", "--all-namespaces", "-l", "mcpwarden.dev/injected=true"]);
    // A pod being deleted (earlier files delete pods and namespaces) still says Running while
    // its containers stop; Prometheus is not expected to scrape it.
    const sidecars = pods.items.filter((pod) => pod.status.phase === "Running" && pod.metadata.deletionTimestamp === undefined).map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`);
    const operators = (await kubectlJson<{ items: { metadata: { name: string } }[] }>(["-n", "mcp-warden", "get", "pods", "-l", "app.kubernetes.io/component=operator"])).items.map((pod) => `mcp-warden/${pod.metadata.name}`);
    expect(sidecars.length).toBeGreaterThan(0);
    expect(operators).toHaveLength(2);
    let up: string[] = [];
    await eventually(
      "up == 1 for every sidecar and operator replica",
      async () => {
        up = (await promQuery("up == 1")).map((sample) => `${sample.metric.namespace}/${sample.metric.pod}`);
        const missing = [...sidecars, ...operators].filter((pod) => !up.includes(pod));
        if (missing.length > 0) throw new Error(`not up yet: ${missing.join(", ")}`);
        return true;
      },
      120_000,
    );
    const sidecarJobs = new Set((await promQuery(`up{namespace="${workloadNamespace}"}`)).map((sample) => `${sample.metric.job} ${sample.metric.container}`));
    expect([...sidecarJobs]).toEqual(["mcp-warden/mcp-warden-sidecars mcp-warden"]);
  });

  it("loads the chart's alerts from the PrometheusRule", async () => {
    const names = await eventually("the rules to load", async () => {
      const response = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string }[] }[] } };
      const found = response.data.groups.flatMap((group) => group.rules.map((rule) => rule.name));
      return ALERTS.every((name) => found.includes(name)) ? found : undefined;
    });
    expect(names).toEqual(expect.arrayContaining(ALERTS));
  });

  it("answers every query of the installed dashboard after the scripted workload", async () => {
    const configMaps = await kubectlJson<{ items: { data: Record<string, string> }[] }>(["-n", "mcp-warden", "get", "configmaps", "-l", "grafana_dashboard=1"]);
    const dashboard = JSON.parse(Object.values(configMaps.items[0]!.data)[0]!) as { panels: { type: string; title: string; targets?: { expr: string }[] }[] };
    const targets = dashboard.panels.filter((panel) => panel.type !== "row").flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));
    expect(targets.length).toBeGreaterThan(15);
    let empty: string[] = [];
    await eventually(
      "every panel to have data",
      async () => {
        empty = [];
        for (const { panel, expr } of targets) if ((await promQuery(withDashboardVariables(expr))).length === 0) empty.push(`${panel}: ${expr}`);
        return empty.length === 0 ? true : undefined;
      },
      180_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\nempty:\n  ${empty.join("\n  ")}`);
    });
  });

  it("fires McpWardenDenialRateSpike for the denied calls", async () => {
    const alert = await eventually(
      "McpWardenDenialRateSpike to fire",
      async () => (await promQuery(`ALERTS{alertname="McpWardenDenialRateSpike", alertstate="firing", namespace="${workloadNamespace}"}`))[0],
      180_000,
    );
    expect(alert.metric).toMatchObject({ policy: `${workloadNamespace}/demo`, severity: "warning" });
  });
});
