// What the chart tests share: the built helm with private config/cache folders, rendering
// the chart into objects, value files, and the stand-in CRDs for the Prometheus Operator
// and cert-manager (their real CRDs are not in this repository; the stand-ins only make
// the API server store the kinds the chart renders).
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load, loadAll } from "js-yaml";
import { controlPlane, kubectlOk, repoRoot, run, type CommandResult } from "../harness/index.ts";

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export interface KubeManifest extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject & { name: string; namespace?: string };
}

export const chartDir = (): string => join(repoRoot(), "charts", "mcp-warden");

const helmHome = mkdtempSync(join(tmpdir(), "mcp-warden-helm-"));

/** The harness's helm against the test control plane, with config and cache of its own. */
export function helm(args: string[], options: { timeoutMs?: number } = {}): Promise<CommandResult> {
  const cp = controlPlane();
  const env = {
    ...process.env,
    KUBECONFIG: cp.kubeconfig,
    HELM_CONFIG_HOME: join(helmHome, "config"),
    HELM_CACHE_HOME: join(helmHome, "cache"),
    HELM_DATA_HOME: join(helmHome, "data"),
  };
  return run(cp.helm, args, { env, timeoutMs: options.timeoutMs ?? 120_000 });
}

export async function helmOk(args: string[]): Promise<string> {
  const result = await helm(args);
  if (result.code !== 0) throw new Error(`helm ${args.join(" ")} failed (${result.code}):\n${result.stderr}`);
  return result.stdout;
}

/** Writes values to a file for `-f` (JSON is YAML). */
export function valuesFile(values: JsonObject): string {
  const path = join(mkdtempSync(join(tmpdir(), "mcp-warden-values-")), "values.yaml");
  writeFileSync(path, JSON.stringify(values, null, 2));
  return path;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function parseManifests(text: string): KubeManifest[] {
  return loadAll(text).filter((doc): doc is KubeManifest => isObject(doc) && typeof doc.kind === "string");
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  chart?: string;
  extraArgs?: string[];
}

/** `helm template` with these values; throws with helm's message when rendering fails. */
export async function renderChart(values: JsonObject, options: RenderOptions = {}): Promise<{ text: string; objects: KubeManifest[] }> {
  const text = await helmOk([
    "template",
    options.release ?? "warden",
    options.chart ?? chartDir(),
    "--namespace",
    options.namespace ?? "mcp-warden",
    "-f",
    valuesFile(values),
    ...(options.extraArgs ?? []),
  ]);
  return { text, objects: parseManifests(text) };
}

export function findObject(objects: KubeManifest[], kind: string, name?: string): KubeManifest {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`no ${kind}${name ? ` ${name}` : ""} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  return found;
}

export function kinds(objects: KubeManifest[]): string[] {
  return [...new Set(objects.map((o) => o.kind))].sort();
}

/** Reads a nested value; arrays by index. */
export function at(value: Json | undefined, ...path: (string | number)[]): Json | undefined {
  let node: Json | undefined = value;
  for (const step of path) {
    if (Array.isArray(node) && typeof step === "number") node = node[step];
    else if (isObject(node) && typeof step === "string") node = node[step];
    else return undefined;
  }
  return node;
}

const STAND_IN_LABEL = "mcpwarden.dev/test-stand-in";

function standInCrd(group: string, kind: string, plural: string): JsonObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${plural}.${group}`,
      labels: { [STAND_IN_LABEL]: "true" },
      annotations: { "mcpwarden.dev/note": "a minimal stand-in applied by mcp-warden's chart tests, not the real CRD" },
    },
    spec: {
      group,
      scope: "Namespaced",
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: "object",
              required: ["spec"],
              properties: { spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
            },
          },
        },
      ],
    },
  };
}

/** PodMonitor, ServiceMonitor, PrometheusRule (monitoring.coreos.com) and Certificate, Issuer (cert-manager.io), Established. */
export async function applyStandInCrds(): Promise<void> {
  const crds = [
    standInCrd("monitoring.coreos.com", "PodMonitor", "podmonitors"),
    standInCrd("monitoring.coreos.com", "ServiceMonitor", "servicemonitors"),
    standInCrd("monitoring.coreos.com", "PrometheusRule", "prometheusrules"),
    standInCrd("cert-manager.io", "Certificate", "certificates"),
    standInCrd("cert-manager.io", "Issuer", "issuers"),
  ];
  const input = crds.map((crd) => JSON.stringify(crd)).join("\n---\n");
  await kubectlOk(["apply", "--server-side", "--field-manager=mcp-warden-chart-tests", "-f", "-"], { input });
  for (const crd of crds) {
    await kubectlOk(["wait", "--for=condition=Established", "--timeout=60s", `crd/${String(at(crd, "metadata", "name"))}`]);
  }
}

/**
 * A CRD applied with kubectl (as crd.test.ts and the README's first steps do) belongs to
 * no release; Helm refuses to take it over unless it carries the release's ownership
 * metadata. This is the adoption the README describes.
 */
export async function adoptCrdsInto(release: string, namespace: string, names: string[]): Promise<void> {
  for (const name of names) {
    const exists = await run(controlPlane().kubectl, [`--kubeconfig=${controlPlane().kubeconfig}`, "get", "crd", name, "-o", "name"]);
    if (exists.code !== 0) continue;
    await kubectlOk(["label", "--overwrite", "crd", name, "app.kubernetes.io/managed-by=Helm"]);
    await kubectlOk(["annotate", "--overwrite", "crd", name, `meta.helm.sh/release-name=${release}`, `meta.helm.sh/release-namespace=${namespace}`]);
  }
}

/** The names of every CRD in crds/ (what the chart installs as templates). */
export function crdNamesInRepo(): string[] {
  return readdirSync(join(repoRoot(), "crds"))
    .filter((file) => file.endsWith(".yaml"))
    .map((file) => (load(readFileSync(join(repoRoot(), "crds", file), "utf8")) as { metadata: { name: string } }).metadata.name);
}
