// The installed chart injects for real. The operator runs out of cluster (no kubelet
// here) exactly as the chart's Deployment would run it: the rendered arguments, the
// chart's certificate from its Secret, and the chart's RBAC (a client certificate for the
// chart's ServiceAccount user, bound by nothing but the chart's roles). webhook.url points
// the chart's MutatingWebhookConfiguration at it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyCrds, createNamespace, kubeconfigFor, kubectl, kubectlOk, repoRoot } from "../harness/index.ts";
import { freePort } from "../harness/free-port.ts";
import { ManagedProcess } from "../harness/managed-process.ts";
import { at, findObject, helm, helmOk, chartDir, parseManifests, renderChart, valuesFile, type JsonObject } from "./chart-helm.ts";

const RELEASE = "inject";
const FULLNAME = `${RELEASE}-mcp-warden`;

let namespace: string;
let excludedNamespace: string;
let operator: ManagedProcess | undefined;
let caPem: string;
const sidecarResources = { requests: { cpu: "25m", memory: "48Mi" }, limits: { memory: "128Mi" } };
const redisSecret = { name: "mcp-warden-redis", key: "url" };

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", () => resolve(0));
    req.end();
  });
}

/** The chart's operator arguments, with what only exists in a pod replaced for a local process. */
function localOperatorArgs(chartArgs: string[], files: Record<string, string>, ports: Record<string, number>): string[] {
  return chartArgs.map((arg) => {
    const [flag, value] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    if (value === undefined) return arg;
    if (flag === "--identity") return `${flag}=chart-operator-0`;
    if (flag === "--namespace") return `${flag}=${namespace}`;
    const port = ports[flag];
    if (port !== undefined) return `${flag}=${port}`;
    const file = value.startsWith("/etc/mcp-warden/tls/") ? files[value.slice("/etc/mcp-warden/tls/".length)] : undefined;
    if (file !== undefined) return `${flag}=${file}`;
    if (value.includes("$(")) throw new Error(`the chart passes ${arg}, which this test cannot stand in for`);
    return arg;
  });
}

async function createPod(ns: string, name: string, labels: Record<string, string>, annotations: Record<string, string>): Promise<{ code: number; pod?: JsonObject; stderr: string }> {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, labels, annotations },
    // No ServiceAccount admission plugin here to fill it in; the projected token needs it.
    spec: { serviceAccountName: "default", containers: [{ name: "mcp-server", image: "example.invalid/mcp-server:1", ports: [{ name: "mcp", containerPort: 8080 }] }] },
  };
  const result = await kubectl(["create", "-o", "json", "-f", "-"], { input: JSON.stringify(pod) });
  return { code: result.code, stderr: result.stderr, ...(result.code === 0 ? { pod: JSON.parse(result.stdout) as JsonObject } : {}) };
}

beforeAll(async () => {
  await applyCrds();
  namespace = await createNamespace("chart-inject-system");
  excludedNamespace = await createNamespace("chart-inject-excluded", { "mcpwarden.dev/inject": "enabled" });
  const ports = { "--webhook-port": await freePort(), "--stream-port": await freePort(), "--admin-port": await freePort() };
  const values = {
    crds: { install: false },
    rbac: { userRoles: false },
    webhook: { url: `https://127.0.0.1:${ports["--webhook-port"]}`, extraIPSANs: ["127.0.0.1"], excludedNamespaces: [excludedNamespace] },
    sidecar: { resources: sidecarResources, redis: { secretRef: redisSecret, failureMode: "deny" } },
  };
  await helmOk(["install", RELEASE, chartDir(), "--namespace", namespace, "-f", valuesFile(values)]);

  const manifest = parseManifests(await helmOk(["get", "manifest", RELEASE, "--namespace", namespace]));
  const chartArgs = at(findObject(manifest, "Deployment"), "spec", "template", "spec", "containers", 0, "args") as string[];
  const secret = JSON.parse(await kubectlOk(["get", "secret", `${FULLNAME}-tls`, "-o", "json"], { namespace })) as JsonObject;
  const dir = mkdtempSync(join(tmpdir(), "chart-inject-"));
  const files: Record<string, string> = {};
  for (const key of ["ca.crt", "tls.crt", "tls.key"]) {
    files[key] = join(dir, key);
    writeFileSync(files[key] as string, Buffer.from(String(at(secret, "data", key)), "base64"), { mode: 0o600 });
  }
  caPem = readFileSync(files["ca.crt"] as string, "utf8");
  // The chart's ServiceAccount, as the API server would authenticate it in a pod.
  const kubeconfig = await kubeconfigFor(`system:serviceaccount:${namespace}:${FULLNAME}`, ["system:serviceaccounts", `system:serviceaccounts:${namespace}`]);
  operator = new ManagedProcess({
    name: "chart-operator",
    command: process.execPath,
    args: [join(repoRoot(), "cli", "main.ts"), ...localOperatorArgs(chartArgs, files, ports), `--kubeconfig=${kubeconfig}`, "--bind-address=127.0.0.1"],
    logFile: join(dir, "operator.log"),
  });
  const deadline = Date.now() + 60_000;
  while ((await httpStatus(`http://127.0.0.1:${ports["--admin-port"]}/readyz`)) !== 200) {
    if (!operator.running || Date.now() > deadline) throw new Error(`the operator did not become ready:\n${readFileSync(operator.logFile, "utf8").slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}, 180_000);

afterAll(async () => {
  // The webhook goes first: a pod.inject webhook pointing at a stopped operator would refuse other suites' pods.
  await helm(["uninstall", RELEASE, "--namespace", namespace]);
  await operator?.stop();
});

describe("the chart's injection webhook, served by the operator with the chart's certificate", () => {
  it("injects the sidecar configured by the chart into a pod of a labelled namespace", async () => {
    const agents = await createNamespace("chart-agents", { "mcpwarden.dev/inject": "enabled" });
    const created = await createPod(agents, "mcp-server", { app: "mcp" }, { "mcpwarden.dev/upstream-port": "8080" });
    expect(created.stderr).toBe("");
    const pod = created.pod as JsonObject;
    expect(at(pod, "metadata", "labels", "mcpwarden.dev/injected")).toBe("true");
    const sidecar = at(pod, "spec", "initContainers", 0) as JsonObject;
    expect(sidecar).toMatchObject({ name: "mcp-warden", image: "localhost/mcp-warden/sidecar:0.1.0", restartPolicy: "Always", resources: sidecarResources });
    expect((sidecar.ports as JsonObject[]).map((port) => [port.name, port.containerPort])).toEqual([
      ["mcp-warden", 9000],
      ["warden-admin", 9464],
    ]);
    const env = Object.fromEntries((sidecar.env as JsonObject[]).map((entry) => [entry.name, entry.value]));
    expect(env.MCPWARDEN_CONTROL_PLANE).toBe(`https://${FULLNAME}-stream.${namespace}.svc:443`);
    expect(env.MCPWARDEN_CA_PEM).toBe(caPem);
    // The Redis URL: from the Secret in the pod's namespace, expanded by the kubelet.
    expect(sidecar.args).toEqual(expect.arrayContaining(["--redis=$(MCPWARDEN_REDIS_URL)", "--rate-limit-failure-mode=deny"]));
    expect((sidecar.env as JsonObject[]).find((entry) => entry.name === "MCPWARDEN_REDIS_URL")).toEqual({ name: "MCPWARDEN_REDIS_URL", valueFrom: { secretKeyRef: redisSecret } });
  });

  it("the operator that injects the Redis Secret reference may not read Secrets", async () => {
    const agents = await createNamespace("chart-agents", { "mcpwarden.dev/inject": "enabled" });
    const canI = async (verb: string, resource: string): Promise<string> =>
      `${verb} ${resource}: ${(await kubectl(["auth", "can-i", verb, resource, "--namespace", agents, "--as", `system:serviceaccount:${namespace}:${FULLNAME}`])).stdout.trim()}`;
    expect(await canI("list", "pods")).toBe("list pods: yes");
    for (const verb of ["get", "list", "watch"]) expect(await canI(verb, "secrets")).toBe(`${verb} secrets: no`);
  });

  it("leaves opted-out pods, unlabelled namespaces and excluded namespaces alone", async () => {
    const agents = await createNamespace("chart-agents", { "mcpwarden.dev/inject": "enabled" });
    const optedOut = await createPod(agents, "opted-out", { "mcpwarden.dev/inject": "false" }, {});
    expect(at(optedOut.pod, "spec", "initContainers")).toBeUndefined();
    const plain = await createNamespace("chart-plain");
    const untouched = await createPod(plain, "plain", {}, {});
    expect(at(untouched.pod, "spec", "initContainers")).toBeUndefined();
    // Labelled for injection, but webhook.excludedNamespaces keeps the API server from asking.
    const excluded = await createPod(excludedNamespace, "excluded", { "mcpwarden.dev/inject": "true" }, {});
    expect(excluded.stderr).toBe("");
    expect(at(excluded.pod, "spec", "initContainers")).toBeUndefined();
  });

  it("injects a pod labelled mcpwarden.dev/inject=true in an unlabelled namespace", async () => {
    const plain = await createNamespace("chart-plain");
    const created = await createPod(plain, "opted-in", { "mcpwarden.dev/inject": "true" }, { "mcpwarden.dev/upstream-port": "mcp" });
    expect(at(created.pod, "spec", "initContainers", 0, "name")).toBe("mcp-warden");
  });

  it("refuses a pod without the upstream-port annotation, saying so", async () => {
    const agents = await createNamespace("chart-agents", { "mcpwarden.dev/inject": "enabled" });
    const refused = await createPod(agents, "no-port", {}, {});
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("mcpwarden.dev/upstream-port");
  });
});

// Every flag the chart's Deployment passes must be one `mcp-warden operator` knows, or the
// pods crash-loop.
const operatorHelp = spawnSync(process.execPath, [join(repoRoot(), "cli", "main.ts"), "operator", "--help"], { encoding: "utf8" }).stdout;
const operatorKnows = (flag: string): boolean => new RegExp(`(^|\\s)${flag}[ =<,]`, "m").test(operatorHelp);
const flagCases: [string, JsonObject][] = [
  ["default values", {}],
  ["cert-manager, monitoring, exclusions", { certManager: { enabled: true }, monitoring: { enabled: true }, webhook: { excludedNamespaces: ["legacy"] } }],
  ["a Redis URL", { sidecar: { redis: { url: "redis://redis.cache:6379", failureMode: "allow" } } }],
  ["a Redis Secret", { sidecar: { redis: { secretRef: { name: "mcp-warden-redis" } } } }],
];

describe("the chart's operator arguments", () => {
  it("are checked against a help text that lists flags", () => {
    expect(operatorKnows("--webhook-port")).toBe(true);
    expect(operatorKnows("--no-such-flag")).toBe(false);
  });
  it.each(flagCases)("with %s: every flag is one `mcp-warden operator` accepts", async (_name, values) => {
    const { objects } = await renderChart(values, { release: RELEASE, namespace: "mcp-warden" });
    const args = at(findObject(objects, "Deployment"), "spec", "template", "spec", "containers", 0, "args") as string[];
    expect(args[0]).toBe("operator");
    const unknown = args.slice(1).map((arg) => arg.split("=")[0] as string).filter((flag) => !operatorKnows(flag));
    expect(unknown).toEqual([]);
  });
});
