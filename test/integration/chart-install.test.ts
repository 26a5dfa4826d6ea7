// The chart against the real kube-apiserver: every rendered object passes server-side
// dry-run, `helm install` creates them, `helm upgrade` keeps the webhook CA and upgrades
// a changed CRD, `helm uninstall` leaves the CRDs and the policies. Pods never run here
// (no kubelet), so nothing waits for readiness.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { X509Certificate } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyCrds, createNamespace, kubectl, kubectlOk } from "../harness/index.ts";
import { adoptCrdsInto, applyStandInCrds, crdNamesInRepo, at, chartDir, helm, helmOk, parseManifests, renderChart, valuesFile, type JsonObject, type KubeManifest } from "./chart-helm.ts";

const RELEASE = "warden";
const POLICY_CRD = "mcppolicies.mcpwarden.dev";
const MODE_COLUMN = "enforce blocks calls; audit only records what would have happened.";

const installValues: JsonObject = {
  monitoring: { enabled: true, rules: { for: { sidecarsDisconnected: "2m" } } },
  approvals: { webhooks: { enabled: true } },
  webhook: { excludedNamespaces: ["legacy"] },
  sidecar: { redis: { url: "redis://redis.cache:6379" } },
};

let namespace: string;

async function getJson(args: string[], ns?: string): Promise<JsonObject> {
  return JSON.parse(await kubectlOk(["get", ...args, "-o", "json"], ns ? { namespace: ns } : {})) as JsonObject;
}

async function webhookCaBundles(): Promise<string[]> {
  const configuration = await getJson(["mutatingwebhookconfiguration", `${RELEASE}-mcp-warden-injection`]);
  return (configuration.webhooks as JsonObject[]).map((webhook) => String(at(webhook, "clientConfig", "caBundle")));
}

async function tlsSecret(): Promise<{ ca: string; cert: string }> {
  const secret = await getJson(["secret", `${RELEASE}-mcp-warden-tls`], namespace);
  const decode = (key: string): string => Buffer.from(String(at(secret, "data", key)), "base64").toString("utf8");
  return { ca: decode("ca.crt"), cert: decode("tls.crt") };
}

async function modeColumnDescription(): Promise<string> {
  const crd = await getJson(["crd", POLICY_CRD]);
  const columns = at(crd, "spec", "versions", 0, "additionalPrinterColumns") as JsonObject[];
  return String(columns.find((column) => column.name === "Mode")?.description);
}

/** A copy of the chart whose McpPolicy CRD template differs in one printer-column description. */
function chartWithChangedCrd(): string {
  const copy = join(mkdtempSync(join(tmpdir(), "mcp-warden-chart-")), "mcp-warden");
  cpSync(chartDir(), copy, { recursive: true });
  const template = join(copy, "templates", "crds", "mcpwarden.dev_mcppolicies.yaml");
  const text = readFileSync(template, "utf8");
  if (!text.includes(MODE_COLUMN)) throw new Error("the Mode column description moved; update this test");
  writeFileSync(template, text.replace(MODE_COLUMN, `${MODE_COLUMN} (upgraded)`));
  return copy;
}

beforeAll(async () => {
  await applyStandInCrds();
  namespace = await createNamespace("chart-install");
});

afterAll(async () => {
  await helm(["uninstall", RELEASE, "--namespace", namespace]);
  // Later suites expect the CRDs exactly as crds/ defines them.
  await applyCrds();
});

describe("kubectl apply --dry-run=server", () => {
  const valueSets: [string, JsonObject][] = [
    ["default values", {}],
    ["monitoring, approval webhooks, Redis, exclusions", installValues],
    ["cert-manager and an out-of-cluster webhook", { certManager: { enabled: true }, monitoring: { enabled: true }, webhook: { url: "https://127.0.0.1:9443", extraIPSANs: ["127.0.0.1"] } }],
    ["Redis from a Secret, no CRDs, no people's roles", { crds: { install: false }, rbac: { userRoles: false }, sidecar: { redis: { secretRef: { name: "mcp-warden-redis" } } } }],
  ];
  it.each(valueSets)("accepts every object rendered with %s", async (_name, values) => {
    const { text, objects } = await renderChart(values, { release: RELEASE, namespace });
    expect(objects.length).toBeGreaterThan(10);
    const result = await kubectl(["apply", "--server-side", "--dry-run=server", "--force-conflicts", "--field-manager=mcp-warden-chart-dry-run", "-f", "-"], { input: text });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const applied = result.stdout.trim().split("\n");
    expect(applied).toHaveLength(objects.length);
    for (const line of applied) expect(line).toMatch(/serverside-applied \(server dry run\)$/);
  });
});

describe("helm install, upgrade, uninstall", () => {
  it("install refuses invalid values before touching the cluster", async () => {
    const result = await helm(["install", RELEASE, chartDir(), "--namespace", namespace, "-f", valuesFile({ webhook: { failurePolicy: "Never" } })]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("at '/webhook/failurePolicy': value must be one of 'Fail', 'Ignore'");
    expect((await helm(["status", RELEASE, "--namespace", namespace])).code).not.toBe(0);
  });

  it("install creates every rendered object", async () => {
    // Other suites applied the CRDs with kubectl; the README tells users to adopt them like this.
    await adoptCrdsInto(RELEASE, namespace, crdNamesInRepo());
    const installed = await helmOk(["install", RELEASE, chartDir(), "--namespace", namespace, "-f", valuesFile(installValues)]);
    // NOTES.txt: what to do next, in order.
    const notes = installed.slice(installed.indexOf("NOTES:"));
    const steps = ["rollout status deployment/warden-mcp-warden-operator", "kubectl label namespace agents mcpwarden.dev/inject=enabled", "mcpwarden.dev/upstream-port", "targetPort: mcp-warden", "kubectl get mcppolicies -n agents -o wide", "Monitoring is on"];
    const positions = steps.map((step) => notes.indexOf(step));
    expect(positions.every((position) => position > 0), notes).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const manifest = parseManifests(await helmOk(["get", "manifest", RELEASE, "--namespace", namespace]));
    expect(manifest.map((o) => o.kind)).toEqual(
      expect.arrayContaining(["CustomResourceDefinition", "Deployment", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "PodMonitor", "ServiceMonitor", "PrometheusRule", "ConfigMap", "Secret"]),
    );
    for (const object of manifest) {
      const ref = `${object.kind}.${object.apiVersion.includes("/") ? object.apiVersion.split("/")[0] : ""}`.replace(/\.$/, "");
      const found = await kubectl(["get", ref, object.metadata.name, "-o", "name"], object.metadata.namespace ? { namespace: object.metadata.namespace } : {});
      expect(found.code, `${object.kind}/${object.metadata.name}: ${found.stderr}`).toBe(0);
    }
    const ca = (await tlsSecret()).ca;
    for (const bundle of await webhookCaBundles()) expect(Buffer.from(bundle, "base64").toString("utf8")).toBe(ca);
  });

  it("upgrade keeps the webhook CA, re-signs the serving certificate only when its SANs change, and applies a changed CRD", async () => {
    const before = await tlsSecret();
    const bundlesBefore = await webhookCaBundles();
    expect(await modeColumnDescription()).toBe(MODE_COLUMN);

    // Same values: nothing about the certificates changes.
    await helmOk(["upgrade", RELEASE, chartDir(), "--namespace", namespace, "-f", valuesFile(installValues)]);
    expect(await tlsSecret()).toEqual(before);
    expect(await webhookCaBundles()).toEqual(bundlesBefore);

    // A changed CRD and a new SAN: the CRD is upgraded, the CA stays, the leaf is re-signed by it.
    const changed = { ...installValues, webhook: { excludedNamespaces: ["legacy"], extraIPSANs: ["127.0.0.1"] } };
    await helmOk(["upgrade", RELEASE, chartWithChangedCrd(), "--namespace", namespace, "-f", valuesFile(changed)]);
    const after = await tlsSecret();
    expect(after.ca).toBe(before.ca);
    expect(await webhookCaBundles()).toEqual(bundlesBefore);
    expect(after.cert).not.toBe(before.cert);
    const leaf = new X509Certificate(after.cert);
    expect(leaf.verify(new X509Certificate(after.ca).publicKey)).toBe(true);
    expect(leaf.subjectAltName).toContain("IP Address:127.0.0.1");
    expect(await modeColumnDescription()).toBe(`${MODE_COLUMN} (upgraded)`);
  });

  it("uninstall removes the release's objects but keeps the CRDs and every McpPolicy", async () => {
    const agents = await createNamespace("chart-agents");
    const policy = {
      apiVersion: "mcpwarden.dev/v1alpha1",
      kind: "McpPolicy",
      metadata: { name: "kept", namespace: agents },
      spec: { selector: {}, tools: { list_runs: {} } },
    };
    await kubectlOk(["create", "-f", "-"], { input: JSON.stringify(policy) });
    const manifest: KubeManifest[] = parseManifests(await helmOk(["get", "manifest", RELEASE, "--namespace", namespace]));

    const uninstall = await helmOk(["uninstall", RELEASE, "--namespace", namespace]);
    expect(uninstall).toContain("These resources were kept due to the resource policy:");
    for (const crd of crdNamesInRepo()) {
      expect(uninstall).toContain(`[CustomResourceDefinition] ${crd}`);
      expect((await kubectl(["get", "crd", crd, "-o", "name"])).code).toBe(0);
    }
    expect(at(await getJson(["mcppolicy", "kept"], agents), "spec", "tools")).toEqual({ list_runs: { action: "allow" } });
    for (const object of manifest.filter((o) => o.kind !== "CustomResourceDefinition")) {
      const ref = `${object.kind}.${object.apiVersion.includes("/") ? object.apiVersion.split("/")[0] : ""}`.replace(/\.$/, "");
      const gone = await kubectl(["get", ref, object.metadata.name, "-o", "name"], object.metadata.namespace ? { namespace: object.metadata.namespace } : {});
      expect(gone.stderr, `${object.kind}/${object.metadata.name}`).toContain("NotFound");
    }
  });
});
