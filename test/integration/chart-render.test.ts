// The chart as `helm lint` and `helm template` see it: it lints strictly, renders for the
// default values and the value sets platform teams use, and what it renders is what the
// values say. Bad values fail with the value named. The CRD templates match crds/ and the
// dashboard and alerts use only metric names ARCHITECTURE.md defines.
import { describe, expect, it } from "vitest";
import { X509Certificate } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load, loadAll } from "js-yaml";
import { repoRoot, run } from "../harness/index.ts";
import { chartCrdDrift, CHART_CRD_DIR } from "../../tools/generate-chart-crds.ts";
import { at, chartDir, findObject, helm, isObject, kinds, renderChart, valuesFile, type Json, type JsonObject, type KubeManifest } from "./chart-helm.ts";

const NAMESPACE = "mcp-warden";
const MONITORING_KINDS = ["PodMonitor", "PrometheusRule", "ServiceMonitor"];

function sourceCrds(): JsonObject[] {
  const dir = join(repoRoot(), "crds");
  return readdirSync(dir)
    .filter((file) => file.endsWith(".yaml"))
    .flatMap((file) => loadAll(readFileSync(join(dir, file), "utf8")))
    .filter(isObject);
}

function deployment(objects: KubeManifest[]): KubeManifest {
  return findObject(objects, "Deployment");
}

function operatorArgs(objects: KubeManifest[]): string[] {
  return (at(deployment(objects), "spec", "template", "spec", "containers", 0, "args") as string[]) ?? [];
}

function webhooks(objects: KubeManifest[], kind = "MutatingWebhookConfiguration", name = "warden-mcp-warden-injection"): JsonObject[] {
  return at(findObject(objects, kind, name), "webhooks") as JsonObject[];
}

function secretPem(secret: KubeManifest, key: string): string {
  return Buffer.from(String(at(secret, "data", key)), "base64").toString("utf8");
}

describe("helm lint", () => {
  it("passes --strict with the default values and with every feature on", async () => {
    const plain = await helm(["lint", "--strict", chartDir()]);
    expect(plain.stderr + plain.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(plain.code).toBe(0);
    const everything = valuesFile({
      monitoring: { enabled: true },
      certManager: { enabled: true },
      approvals: { webhooks: { enabled: true } },
      webhook: { url: "https://127.0.0.1:9443", extraIPSANs: ["127.0.0.1"], excludedNamespaces: ["legacy"] },
      sidecar: { redis: { url: "redis://redis.cache:6379" } },
    });
    const all = await helm(["lint", "--strict", chartDir(), "-f", everything]);
    expect(all.code, all.stdout + all.stderr).toBe(0);
  });
});

describe("default images", () => {
  it("are the images `make images` builds: localhost/mcp-warden/operator and /sidecar, tagged with the version", async () => {
    const named = await run("make", ["--no-print-directory", "-s", "image-names"]);
    expect(named.code, named.stderr).toBe(0);
    const version = (JSON.parse(readFileSync(join(repoRoot(), "package.json"), "utf8")) as { version: string }).version;
    expect(named.stdout.trim().split("\n")).toEqual([`localhost/mcp-warden/operator:${version}`, `localhost/mcp-warden/sidecar:${version}`, `localhost/mcp-warden/demo-server:${version}`, `localhost/mcp-warden/mockloop:${version}`]);
    const { objects } = await renderChart({});
    expect(at(deployment(objects), "spec", "template", "spec", "containers", 0, "image")).toBe(`localhost/mcp-warden/operator:${version}`);
    expect(operatorArgs(objects)).toContain(`--sidecar-image=localhost/mcp-warden/sidecar:${version}`);
    const schema = JSON.parse(readFileSync(join(chartDir(), "values.schema.json"), "utf8")) as JsonObject;
    const values = load(readFileSync(join(chartDir(), "values.yaml"), "utf8")) as JsonObject;
    for (const component of ["operator", "sidecar"]) {
      expect(at(values, component, "image", "repository")).toBe(`localhost/mcp-warden/${component}`);
      expect(at(schema, "properties", component, "properties", "image", "properties", "repository", "default")).toBe(`localhost/mcp-warden/${component}`);
    }
    const prefixed = await run("make", ["--no-print-directory", "-s", "image-names", "IMAGE_PREFIX=registry.example/team"]);
    expect(prefixed.stdout.trim().split("\n")[0]).toBe(`registry.example/team/operator:${version}`);
  });
});

describe("helm template: default values", () => {
  it("renders the operator, its webhooks, certificates and RBAC, and no monitoring objects", async () => {
    const { objects } = await renderChart({});
    expect(kinds(objects)).toEqual([
      "ClusterRole",
      "ClusterRoleBinding",
      "CustomResourceDefinition",
      "Deployment",
      "MutatingWebhookConfiguration",
      "PodDisruptionBudget",
      "Role",
      "RoleBinding",
      "Secret",
      "Service",
      "ServiceAccount",
      "ValidatingWebhookConfiguration",
    ]);
    for (const kind of MONITORING_KINDS) expect(objects.some((o) => o.kind === kind)).toBe(false);
  });

  it("runs two hardened operator replicas with leader election, probes, resources and a PDB", async () => {
    const { objects } = await renderChart({});
    const operator = deployment(objects);
    expect(at(operator, "spec", "replicas")).toBe(2);
    const pod = at(operator, "spec", "template", "spec") as JsonObject;
    expect(at(pod, "securityContext")).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } });
    const container = at(pod, "containers", 0) as JsonObject;
    expect(at(container, "securityContext")).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(at(container, "readinessProbe", "httpGet")).toEqual({ path: "/readyz", port: "admin" });
    expect(at(container, "livenessProbe", "httpGet")).toEqual({ path: "/healthz", port: "admin" });
    expect(at(container, "resources", "requests")).toBeTruthy();
    expect(at(container, "resources", "limits", "memory")).toBeTruthy();
    const args = operatorArgs(objects);
    expect(args[0]).toBe("operator");
    expect(args).toContain("--lease-name=warden-mcp-warden-operator");
    expect(args).toContain(`--control-plane-url=https://warden-mcp-warden-stream.${NAMESPACE}.svc:443`);
    expect(args).toContain("--sidecar-image=localhost/mcp-warden/sidecar:0.1.0");
    expect(args.some((arg) => arg.startsWith("--sidecar-redis"))).toBe(false);
    expect(args).toContain("--approval-ttl=3600");
    expect(args).toContain("--shutdown-delay=5");
    expect(at(container, "env")).toContainEqual({ name: "NODE_OPTIONS", value: "--max-old-space-size=256" });
    const pdb = findObject(objects, "PodDisruptionBudget");
    expect(at(pdb, "spec", "minAvailable")).toBe(1);
    expect(at(pdb, "spec", "selector", "matchLabels")).toEqual(at(operator, "spec", "selector", "matchLabels"));
    // The Lease lives in the release namespace, where the Role lets the operator renew it.
    expect(at(findObject(objects, "Role"), "rules", 0, "resources")).toEqual(["leases"]);
  });

  it("serves the webhook and the policy stream through Services on the operator's named ports", async () => {
    const { objects } = await renderChart({});
    const ports = (at(deployment(objects), "spec", "template", "spec", "containers", 0, "ports") as JsonObject[]).map((p) => p.name);
    expect(ports).toEqual(["webhook", "stream", "admin"]);
    expect(at(findObject(objects, "Service", "warden-mcp-warden-webhook"), "spec", "ports", 0)).toMatchObject({ port: 443, targetPort: "webhook" });
    expect(at(findObject(objects, "Service", "warden-mcp-warden-stream"), "spec", "ports", 0)).toMatchObject({ port: 443, targetPort: "stream" });
  });

  it("injects through two webhooks (labelled namespaces, labelled pods) that skip kube-system and the release namespace", async () => {
    const { objects } = await renderChart({});
    const [byNamespace, byPod] = webhooks(objects);
    expect(at(byNamespace, "name")).toBe("namespace.inject.mcpwarden.dev");
    expect(at(byNamespace, "namespaceSelector", "matchExpressions")).toEqual([
      { key: "mcpwarden.dev/inject", operator: "In", values: ["enabled"] },
      { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", NAMESPACE] },
    ]);
    expect(at(byNamespace, "objectSelector", "matchExpressions")).toEqual([{ key: "mcpwarden.dev/inject", operator: "NotIn", values: ["false"] }]);
    expect(at(byPod, "objectSelector", "matchLabels")).toEqual({ "mcpwarden.dev/inject": "true" });
    for (const webhook of [byNamespace, byPod]) {
      expect(webhook).toMatchObject({ failurePolicy: "Fail", timeoutSeconds: 10, sideEffects: "None" });
      expect(at(webhook, "clientConfig", "service")).toEqual({ name: "warden-mcp-warden-webhook", namespace: NAMESPACE, path: "/v1/inject", port: 443 });
    }
  });

  it("signs the serving certificate with the CA in every caBundle, for the Service names", async () => {
    const { objects } = await renderChart({});
    const secret = findObject(objects, "Secret", "warden-mcp-warden-tls");
    const caPem = secretPem(secret, "ca.crt");
    for (const webhook of webhooks(objects)) {
      expect(Buffer.from(String(at(webhook, "clientConfig", "caBundle")), "base64").toString("utf8")).toBe(caPem);
    }
    const ca = new X509Certificate(caPem);
    const serving = new X509Certificate(secretPem(secret, "tls.crt"));
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(serving.subjectAltName).toContain(`DNS:warden-mcp-warden-webhook.${NAMESPACE}.svc`);
    expect(serving.subjectAltName).toContain(`DNS:warden-mcp-warden-stream.${NAMESPACE}.svc`);
    // The CA key is stored for later upgrades, but never mounted into the operator.
    const items = at(deployment(objects), "spec", "template", "spec", "volumes", 0, "secret", "items") as JsonObject[];
    expect(items.map((item) => item.key)).toEqual(["ca.crt", "tls.crt", "tls.key"]);
  });

  it("binds the operator to exactly the rules of files/operator-clusterrole.yaml, and adds people's roles", async () => {
    const { objects } = await renderChart({});
    const file = load(readFileSync(join(chartDir(), "files", "operator-clusterrole.yaml"), "utf8")) as JsonObject;
    const operatorRole = findObject(objects, "ClusterRole", "warden-mcp-warden-operator");
    expect(operatorRole.rules).toEqual(file.rules);
    const binding = findObject(objects, "ClusterRoleBinding");
    expect(at(binding, "roleRef", "name")).toBe("warden-mcp-warden-operator");
    expect(at(binding, "subjects", 0)).toEqual({ kind: "ServiceAccount", name: "warden-mcp-warden", namespace: NAMESPACE });
    const labels = (name: string): Json | undefined => at(findObject(objects, "ClusterRole", name), "metadata", "labels");
    expect(labels("mcpwarden-viewer")).toMatchObject({ "rbac.authorization.k8s.io/aggregate-to-view": "true" });
    expect(labels("mcpwarden-editor")).toMatchObject({ "rbac.authorization.k8s.io/aggregate-to-edit": "true", "rbac.authorization.k8s.io/aggregate-to-admin": "true" });
    expect(labels("mcpwarden-approver")).not.toHaveProperty(["rbac.authorization.k8s.io/aggregate-to-admin"]);
    expect(at(findObject(objects, "ClusterRole", "mcpwarden-approver"), "rules", 0)).toMatchObject({ resources: ["mcpapprovals"], verbs: expect.arrayContaining(["patch"]) });
  });

  it("renders the CRDs exactly as crds/ defines them, kept on uninstall", async () => {
    const { objects } = await renderChart({});
    const rendered = objects.filter((o) => o.kind === "CustomResourceDefinition");
    const sources = sourceCrds();
    expect(rendered.map((o) => o.metadata.name).sort()).toEqual(sources.map((s) => String(at(s, "metadata", "name"))).sort());
    for (const crd of rendered) {
      const source = sources.find((s) => at(s, "metadata", "name") === crd.metadata.name) as JsonObject;
      expect(crd.spec).toEqual(source.spec);
      expect(at(crd, "metadata", "annotations", "helm.sh/resource-policy")).toBe("keep");
      expect(at(crd, "metadata", "labels")).toMatchObject(at(source, "metadata", "labels") as JsonObject);
    }
  });

  it("drops the PodDisruptionBudget for a single replica (it would only block drains)", async () => {
    const { objects } = await renderChart({ operator: { replicas: 1 } });
    expect(objects.some((o) => o.kind === "PodDisruptionBudget")).toBe(false);
  });

  it("omits the CRDs with crds.install=false", async () => {
    const { objects } = await renderChart({ crds: { install: false } });
    expect(objects.some((o) => o.kind === "CustomResourceDefinition")).toBe(false);
  });
});

describe("helm template: value sets", () => {
  it("monitoring on: PodMonitor for injected sidecars, ServiceMonitor, PrometheusRule with the for: values, dashboard ConfigMap", async () => {
    const { objects } = await renderChart({
      monitoring: { enabled: true, labels: { release: "kube-prometheus-stack" }, rules: { for: { policyNotProgrammed: "7m" } } },
    });
    const podMonitor = findObject(objects, "PodMonitor");
    expect(at(podMonitor, "spec", "selector", "matchLabels")).toEqual({ "mcpwarden.dev/injected": "true" });
    expect(at(podMonitor, "spec", "namespaceSelector")).toEqual({ any: true });
    expect(at(podMonitor, "spec", "podMetricsEndpoints", 0, "port")).toBe("warden-admin");
    expect(at(podMonitor, "metadata", "labels", "release")).toBe("kube-prometheus-stack");
    const serviceMonitor = findObject(objects, "ServiceMonitor");
    const metricsService = findObject(objects, "Service", "warden-mcp-warden-metrics");
    expect(at(metricsService, "metadata", "labels")).toMatchObject(at(serviceMonitor, "spec", "selector", "matchLabels") as JsonObject);
    expect(at(serviceMonitor, "spec", "endpoints", 0, "port")).toBe(at(metricsService, "spec", "ports", 0, "name"));

    const rules = at(findObject(objects, "PrometheusRule"), "spec", "groups", 0, "rules") as JsonObject[];
    expect(rules.map((rule) => [rule.alert, rule.for])).toEqual([
      ["McpWardenDenialRateSpike", "10m"],
      ["McpWardenSidecarDisconnected", "5m"],
      ["McpWardenPolicyNotProgrammed", "7m"],
      ["McpWardenRateLimitStoreFallback", "5m"],
      ["McpWardenToolDefinitionChanged", "0s"],
    ]);
    const dashboard = findObject(objects, "ConfigMap", "warden-mcp-warden-dashboard");
    expect(at(dashboard, "metadata", "labels", "grafana_dashboard")).toBe("1");
    const json = JSON.parse(String(at(dashboard, "data", "mcp-warden.json"))) as JsonObject;
    expect(json).toEqual(JSON.parse(readFileSync(join(chartDir(), "dashboards", "mcp-warden.json"), "utf8")));
  });

  it("cert-manager on: Issuers and Certificates instead of the chart's Secret; the CA injector fills caBundle", async () => {
    const { objects } = await renderChart({ certManager: { enabled: true } });
    expect(objects.some((o) => o.kind === "Secret")).toBe(false);
    expect(objects.filter((o) => o.kind === "Issuer").map((o) => o.metadata.name)).toEqual(["warden-mcp-warden-selfsigned", "warden-mcp-warden-ca"]);
    const serving = findObject(objects, "Certificate", "warden-mcp-warden-tls");
    expect(at(serving, "spec", "secretName")).toBe("warden-mcp-warden-tls");
    expect(at(serving, "spec", "dnsNames")).toContain(`warden-mcp-warden-stream.${NAMESPACE}.svc`);
    expect(at(serving, "spec", "issuerRef", "name")).toBe("warden-mcp-warden-ca");
    const configuration = findObject(objects, "MutatingWebhookConfiguration");
    expect(at(configuration, "metadata", "annotations", "cert-manager.io/inject-ca-from")).toBe(`${NAMESPACE}/warden-mcp-warden-tls`);
    for (const webhook of webhooks(objects)) expect(at(webhook, "clientConfig", "caBundle")).toBeUndefined();
  });

  it("custom namespace exclusions, failure policy and timeout reach both injection webhooks", async () => {
    const { objects } = await renderChart({ webhook: { excludedNamespaces: ["legacy", "batch-jobs"], failurePolicy: "Ignore", timeoutSeconds: 5 } });
    for (const webhook of webhooks(objects)) {
      expect(at(webhook, "namespaceSelector", "matchExpressions", 1)).toEqual({
        key: "kubernetes.io/metadata.name",
        operator: "NotIn",
        values: ["kube-system", NAMESPACE, "legacy", "batch-jobs"],
      });
      expect(webhook).toMatchObject({ failurePolicy: "Ignore", timeoutSeconds: 5 });
    }
  });

  it("Redis on: the operator hands the sidecars the shared store and its failure mode", async () => {
    const byUrl = operatorArgs((await renderChart({ sidecar: { redis: { url: "redis://redis.cache:6379", failureMode: "deny" } } })).objects);
    expect(byUrl).toContain("--sidecar-redis-url=redis://redis.cache:6379");
    expect(byUrl).toContain("--sidecar-rate-limit-failure-mode=deny");
    const bySecret = operatorArgs((await renderChart({ sidecar: { redis: { secretRef: { name: "mcp-warden-redis", key: "url" } } } })).objects);
    expect(bySecret).toContain("--sidecar-redis-secret=mcp-warden-redis/url");
    expect(bySecret.some((arg) => arg.startsWith("--sidecar-redis-url"))).toBe(false);
  });

  it("webhook.url: the API server calls the URL, and extraIPSANs are in the serving certificate", async () => {
    const { objects } = await renderChart({ webhook: { url: "https://127.0.0.1:9443/", extraIPSANs: ["127.0.0.1"] } });
    for (const webhook of webhooks(objects)) {
      expect(at(webhook, "clientConfig", "url")).toBe("https://127.0.0.1:9443/v1/inject");
      expect(at(webhook, "clientConfig", "service")).toBeUndefined();
    }
    const serving = new X509Certificate(secretPem(findObject(objects, "Secret"), "tls.crt"));
    expect(serving.subjectAltName).toContain("IP Address:127.0.0.1");
  });

  it("approval webhooks are on by default, and off with approvals.webhooks.enabled=false", async () => {
    const off = await renderChart({ approvals: { webhooks: { enabled: false } } });
    expect(off.objects.filter((o) => o.metadata.name === "warden-mcp-warden-approvals")).toEqual([]);
    const on = await renderChart({});
    const mutating = webhooks(on.objects, "MutatingWebhookConfiguration", "warden-mcp-warden-approvals");
    const validating = webhooks(on.objects, "ValidatingWebhookConfiguration", "warden-mcp-warden-approvals");
    expect(at(mutating, 0, "rules", 0, "resources")).toEqual(["mcpapprovals"]);
    expect(at(validating, 0, "clientConfig", "service", "path")).toBe("/v1/approvals/validate");
  });
});

describe("helm template: tracing", () => {
  const env = (objects: KubeManifest[]): Record<string, string> =>
    Object.fromEntries(((at(deployment(objects), "spec", "template", "spec", "containers", 0, "env") as { name: string; value?: string }[]) ?? []).map((entry) => [entry.name, entry.value ?? ""]));

  it("is off by default: no OTEL_* variable for the operator, none passed to sidecars", async () => {
    const { objects } = await renderChart({});
    expect(Object.keys(env(objects)).filter((name) => name.startsWith("OTEL_"))).toEqual([]);
    expect(operatorArgs(objects).filter((arg) => arg.startsWith("--sidecar-otel"))).toEqual([]);
  });

  it("gives the operator the OTEL_* variables of the endpoint and passes them on to injected sidecars", async () => {
    const { objects } = await renderChart({ tracing: { otlpEndpoint: "http://otel-collector.monitoring.svc:4318", sampler: "parentbased_traceidratio", samplerArg: "0.1" } });
    expect(env(objects)).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector.monitoring.svc:4318",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.1",
      OTEL_RESOURCE_ATTRIBUTES: "k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE)",
    });
    expect(operatorArgs(objects).filter((arg) => arg.startsWith("--sidecar-otel"))).toEqual([
      "--sidecar-otel=OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector.monitoring.svc:4318",
      "--sidecar-otel=OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
      "--sidecar-otel=OTEL_TRACES_SAMPLER=parentbased_traceidratio",
      "--sidecar-otel=OTEL_TRACES_SAMPLER_ARG=0.1",
    ]);
  });

  it("refuses a protocol the sidecar does not bundle, naming the value", async () => {
    const refused = await helm(["template", "warden", chartDir(), "--set", "tracing.otlpEndpoint=http://c:4317", "--set", "tracing.protocol=grpc"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("/tracing/protocol");
  });
});

describe("values.schema.json", () => {
  const cases: [string, JsonObject, string][] = [
    ["an unknown failure policy", { webhook: { failurePolicy: "Sometimes" } }, "/webhook/failurePolicy"],
    ["a timeout the API server refuses", { webhook: { timeoutSeconds: 60 } }, "/webhook/timeoutSeconds"],
    ["a namespace name that is not a DNS label", { webhook: { excludedNamespaces: ["Batch_Jobs"] } }, "/webhook/excludedNamespaces/0"],
    ["a webhook URL that is not https", { webhook: { url: "http://127.0.0.1:9443" } }, "/webhook/url"],
    ["a misspelled key", { operater: { replicas: 2 } }, "additional properties 'operater' not allowed"],
    ["zero operator replicas", { operator: { replicas: 0 } }, "/operator/replicas"],
    ["a Redis URL with a password in it", { sidecar: { redis: { url: "redis://:hunter2@redis:6379" } } }, "/sidecar/redis/url"],
    ["a Redis URL with more than a database number after the host", { sidecar: { redis: { url: "redis://redis:6379/cache?tls=1" } } }, "/sidecar/redis/url"],
    ["a Secret name that is not a DNS-1123 subdomain", { sidecar: { redis: { secretRef: { name: "Redis..Credentials" } } } }, "/sidecar/redis/secretRef/name"],
    ["a Secret key Kubernetes refuses", { sidecar: { redis: { secretRef: { name: "redis", key: "redis url" } } } }, "/sidecar/redis/secretRef/key"],
    ["an unknown rate-limit failure mode", { sidecar: { redis: { failureMode: "panic" } } }, "/sidecar/redis/failureMode"],
    ["a sidecar port the injector does not use", { sidecar: { ports: { mcp: 8000 } } }, "/sidecar/ports/mcp"],
    ["a for: duration Prometheus cannot read", { monitoring: { rules: { for: { denialRateSpike: "5 minutes" } } } }, "/monitoring/rules/for/denialRateSpike"],
    ["a string where a boolean belongs", { monitoring: { enabled: "yes" } }, "/monitoring/enabled"],
    ["an operator heap too small to run", { operator: { maxHeapMb: 16 } }, "/operator/maxHeapMb"],
    ["an approval TTL longer than the operator accepts", { approvals: { ttlSeconds: 90_000 } }, "/approvals/ttlSeconds"],
  ];
  it.each(cases)("rejects %s, naming the value", async (_what, values, named) => {
    const result = await helm(["template", "warden", chartDir(), "-f", valuesFile(values)]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("values don't meet the specifications of the schema");
    expect(result.stderr).toContain(named);
  });

  it("rejects a renew deadline that is not shorter than the lease", async () => {
    const result = await helm(["template", "warden", chartDir(), "-f", valuesFile({ operator: { leaderElection: { leaseDurationSeconds: 8 } } })]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("renewDeadlineSeconds must be shorter than leaseDurationSeconds");
  });

  it("rejects a Redis URL and a Secret reference together, saying which to keep", async () => {
    const result = await helm(["template", "warden", chartDir(), "-f", valuesFile({ sidecar: { redis: { url: "redis://r:6379", secretRef: { name: "r" } } } })]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("sidecar.redis: set url or secretRef.name, not both");
  });
});

describe("generated CRD templates", () => {
  it("match crds/ (run `make chart-crds` after changing a CRD)", () => {
    expect(chartCrdDrift(repoRoot())).toEqual([]);
  });

  it("drift is detected when a source CRD changes", () => {
    const copy = mkdtempSync(join(tmpdir(), "mcp-warden-crd-drift-"));
    cpSync(join(repoRoot(), "crds"), join(copy, "crds"), { recursive: true });
    cpSync(join(repoRoot(), CHART_CRD_DIR), join(copy, CHART_CRD_DIR), { recursive: true });
    expect(chartCrdDrift(copy)).toEqual([]);
    const source = join(copy, "crds", "mcpwarden.dev_mcppolicies.yaml");
    writeFileSync(source, readFileSync(source, "utf8").replace("shortNames: [mcpp]", "shortNames: [mcpp, mcppol]"));
    expect(chartCrdDrift(copy)).toEqual([`${CHART_CRD_DIR}/mcpwarden.dev_mcppolicies.yaml`]);
  });
});

describe("dashboard and alerts", () => {
  const documentedMetrics = (): Set<string> => {
    const architecture = readFileSync(join(repoRoot(), "docs", "architecture.md"), "utf8");
    const section = architecture.slice(architecture.indexOf("## Metrics"), architecture.indexOf("\n## ", architecture.indexOf("## Metrics") + 1));
    return new Set([...section.matchAll(/`(mcpwarden_[a-z_]+)/g)].map((match) => match[1] as string));
  };
  const usedMetrics = (exprs: string[]): Set<string> =>
    new Set(exprs.flatMap((expr) => [...expr.matchAll(/\bmcpwarden_[a-z_]+/g)].map((match) => match[0].replace(/_(bucket|count|sum)$/, ""))));
  const dashboard = (): JsonObject => JSON.parse(readFileSync(join(chartDir(), "dashboards", "mcp-warden.json"), "utf8")) as JsonObject;
  const panelExprs = (): { title: string; exprs: string[] }[] =>
    (dashboard().panels as JsonObject[])
      .filter((panel) => panel.type !== "row")
      .map((panel) => ({ title: String(panel.title), exprs: (panel.targets as JsonObject[]).map((target) => String(target.expr)) }));

  it("use only the metric names ARCHITECTURE.md defines", async () => {
    const documented = documentedMetrics();
    expect(documented.size).toBeGreaterThan(15);
    const dashboardMetrics = usedMetrics(panelExprs().flatMap((panel) => panel.exprs));
    expect([...dashboardMetrics].filter((name) => !documented.has(name))).toEqual([]);
    const { objects } = await renderChart({ monitoring: { enabled: true } });
    const rules = at(findObject(objects, "PrometheusRule"), "spec", "groups", 0, "rules") as JsonObject[];
    const ruleMetrics = usedMetrics(rules.map((rule) => String(rule.expr)));
    expect([...ruleMetrics].filter((name) => !documented.has(name))).toEqual([]);
  });

  it("has the panels the issue asks for, each with a query, and namespace and policy variables", () => {
    const titles = panelExprs().map((panel) => panel.title);
    for (const wanted of [/denials by tool and policy/i, /rate-limit hits/i, /allowed vs\. refused/i, /audit mode/i, /approvals waiting/i, /approval wait time/i, /overhead p99/i, /programmed/i, /tool definition changes/i]) {
      expect(titles.some((title) => wanted.test(title)), `a panel matching ${wanted}`).toBe(true);
    }
    for (const panel of panelExprs()) expect(panel.exprs.length, panel.title).toBeGreaterThan(0);
    const variables = (at(dashboard(), "templating", "list") as JsonObject[]).map((variable) => variable.name);
    expect(variables).toEqual(expect.arrayContaining(["namespace", "policy"]));
  });
});
