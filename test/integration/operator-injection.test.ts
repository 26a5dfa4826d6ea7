// Sidecar injection through a MutatingWebhookConfiguration registered with the real
// API server, which calls the operator (a process under its own ClusterRole) at
// https://127.0.0.1:PORT with the CA bundle.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNamespace, kubectl, kubectlOk } from "../harness/index.ts";
import {
  createPod,
  metricValue,
  operatorEnvironment,
  podManifest,
  readLog,
  registerInjectionWebhook,
  startOperator,
  type OperatorEnvironment,
  type OperatorProcess,
  type PodJson,
} from "./operator-fixture.ts";

let env: OperatorEnvironment;
let operator: OperatorProcess;
let unregister: (() => Promise<void>) | undefined;
let injected: string;
let plain: string;

beforeAll(async () => {
  env = await operatorEnvironment("injection");
  operator = await startOperator(env, { identity: "injection-0" });
  unregister = await registerInjectionWebhook(env, "mcp-warden-injector-test", operator.webhookPort);
  injected = await createNamespace("injected", { "mcpwarden.dev/inject": "enabled" });
  plain = await createNamespace("plain");
});

afterAll(async () => {
  await unregister?.(); // a webhook left pointing at a stopped operator would block later pods
  const log = operator ? readLog(operator.process, 400) : "";
  await operator?.stop();
  expect(log).not.toMatch(/forbidden/i);
});

const annotations = { "mcpwarden.dev/upstream-port": "8080" };

function sidecarsOf(pod: PodJson): PodJson["spec"]["initContainers"] {
  return (pod.spec.initContainers ?? []).filter((container) => container.name === "mcp-warden");
}

describe("mcp-warden operator: injection webhook", () => {
  it("injects the native sidecar into a pod of a namespace labelled mcpwarden.dev/inject=enabled", async () => {
    const created = await createPod(injected, podManifest("server", { labels: { app: "mockloop" }, annotations }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const pod = created.body;
    expect(pod.metadata.labels?.["mcpwarden.dev/injected"]).toBe("true");
    const [sidecar] = sidecarsOf(pod) ?? [];
    expect(pod.spec.initContainers?.[0]?.name).toBe("mcp-warden");
    expect(sidecar).toMatchObject({
      image: "mcp-warden:integration",
      restartPolicy: "Always",
      ports: [
        { name: "mcp-warden", containerPort: 9000, protocol: "TCP" },
        { name: "warden-admin", containerPort: 9464, protocol: "TCP" },
      ],
      readinessProbe: { httpGet: { path: "/readyz", port: "warden-admin" } },
      livenessProbe: { httpGet: { path: "/healthz", port: "warden-admin" } },
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      },
      resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
    });
    const env_ = Object.fromEntries(((sidecar?.env ?? []) as { name: string; value?: string; valueFrom?: unknown }[]).map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env_["MCPWARDEN_CONTROL_PLANE"]).toBe(`https://127.0.0.1:${operator.streamPort}`);
    expect(env_["MCPWARDEN_CA_PEM"]).toBe(env.caPem);
    expect(env_["MCPWARDEN_POD_NAME"]).toEqual({ fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } });
    expect(env_["MCPWARDEN_POD_NAMESPACE"]).toEqual({ fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } });
    expect(sidecar?.args).toContain("--upstream=http://127.0.0.1:8080/mcp");
    const token = (pod.spec.volumes ?? []).find((volume) => volume.name === "mcp-warden-token") as unknown as { projected: { sources: unknown[] } };
    expect(token.projected.sources).toEqual([{ serviceAccountToken: { audience: "mcpwarden.dev", expirationSeconds: 3600, path: "token" } }]);
    expect(pod.spec.containers.map((container) => container.name)).toEqual(["server"]);
  });

  it("does not inject twice when an injected pod is admitted again", async () => {
    const first = (await createPod(injected, podManifest("original", { annotations }))).body;
    const again = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "readmitted", labels: first.metadata.labels, annotations: first.metadata.annotations },
      spec: first.spec,
    };
    const created = await createPod(injected, again);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(sidecarsOf(created.body)).toHaveLength(1);
    expect(created.body.spec.volumes?.filter((volume) => volume.name === "mcp-warden-token")).toHaveLength(1);
  });

  it("leaves an opted-out pod untouched", async () => {
    const created = await createPod(injected, podManifest("opted-out", { labels: { "mcpwarden.dev/inject": "false" } }));
    expect(created.status).toBe(201);
    expect(created.body.spec.initContainers).toBeUndefined();
    expect(created.body.metadata.labels?.["mcpwarden.dev/injected"]).toBeUndefined();
  });

  it("refuses a pod without mcpwarden.dev/upstream-port, saying so (also through kubectl)", async () => {
    const refused = await createPod(injected, podManifest("no-port"));
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('admission webhook "namespace.inject.mcpwarden.dev" denied the request');
    expect(refused.body.message).toContain("mcpwarden.dev/upstream-port");
    const viaKubectl = await kubectl(["create", "-f", "-"], { namespace: injected, input: JSON.stringify(podManifest("no-port-kubectl")) });
    expect(viaKubectl.code).not.toBe(0);
    expect(viaKubectl.stderr).toContain("no mcpwarden.dev/upstream-port annotation");
  });

  it("passes a pod's caps, timeouts and forwarded paths to its sidecar, and refuses a bad one naming the annotation", async () => {
    const tuned = await createPod(
      injected,
      podManifest("tuned", { annotations: { ...annotations, "mcpwarden.dev/max-sessions": "50", "mcpwarden.dev/upstream-timeout": "5m", "mcpwarden.dev/forward-paths": "/api" } }),
    );
    expect(tuned.status, JSON.stringify(tuned.body)).toBe(201);
    const args = sidecarsOf(tuned.body)?.[0]?.args ?? [];
    expect(args).toEqual(expect.arrayContaining(["--max-sessions=50", "--upstream-timeout=5m", "--forward-path=/api", "--max-inspected-reply-bytes=8Mi"]));
    for (const [annotation, value, reason] of [
      ["mcpwarden.dev/max-connections", "0", "must be a whole number from 1"],
      ["mcpwarden.dev/body-timeout", "-1s", "must be a duration above 0"],
      ["mcpwarden.dev/max-request-bytes", "lots", "must be a size above 0"],
      ["mcpwarden.dev/forward-paths", "/api/../admin", "is not normalised"],
    ] as const) {
      const refused = await createPod(injected, podManifest(`bad-${annotation.slice(14)}`, { annotations: { ...annotations, [annotation]: value } }));
      expect(refused.status).toBe(400);
      expect(refused.body.message).toContain(annotation);
      expect(refused.body.message).toContain(reason);
    }
  });

  it("puts mcp-warden-launcher in front of a stdio server's command, and refuses a stdio pod whose command it cannot tell or an unknown transport", async () => {
    const stdioPod = (name: string, annotations_: Record<string, string>, container: Record<string, unknown>): Record<string, unknown> => {
      const manifest = podManifest(name, { annotations: { "mcpwarden.dev/upstream-transport": "stdio", ...annotations_ } }) as { spec: { containers: Record<string, unknown>[] } };
      manifest.spec.containers = [{ name: "server", image: "localhost/mcp-warden/mockloop:test", ...container }];
      return manifest;
    };
    const created = await createPod(injected, stdioPod("stdio-server", {}, { command: ["mockloop-mcp"], args: ["--stdio"] }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const server = created.body.spec.containers[0] as unknown as { command: string[]; args?: string[] };
    expect(server.command).toEqual(["/var/run/mcp-warden/launcher/mcp-warden-launcher", "--socket", "/var/run/mcp-warden/stdio/server.sock", "--", "mockloop-mcp", "--stdio"]);
    expect(server.args).toBeUndefined();
    expect((created.body.spec.initContainers ?? []).map((container) => container.name)).toEqual(["mcp-warden", "mcp-warden-launcher"]);
    expect(sidecarsOf(created.body)?.[0]?.args).toContain("--upstream-socket=/var/run/mcp-warden/stdio/server.sock");

    const fromEntrypoint = await createPod(injected, stdioPod("stdio-entrypoint", { "mcpwarden.dev/upstream-command": "mockloop-mcp --stdio" }, {}));
    expect(fromEntrypoint.status, JSON.stringify(fromEntrypoint.body)).toBe(201);
    expect((fromEntrypoint.body.spec.containers[0] as unknown as { command: string[] }).command.slice(-2)).toEqual(["mockloop-mcp", "--stdio"]);

    for (const [name, manifest, reason] of [
      ["stdio-unknown-command", stdioPod("stdio-unknown-command", {}, { args: ["--stdio"] }), "its image's ENTRYPOINT runs, which the pod spec does not show. Set the annotation mcpwarden.dev/upstream-command"],
      ["unknown-transport", podManifest("unknown-transport", { annotations: { ...annotations, "mcpwarden.dev/upstream-transport": "grpc" } }), 'mcpwarden.dev/upstream-transport is "grpc": it must be http'],
    ] as const) {
      const refused = await createPod(injected, manifest);
      expect(refused.status, name).toBe(400);
      expect(refused.body.message).toContain('admission webhook "namespace.inject.mcpwarden.dev" denied the request: mcp-warden cannot protect this pod');
      expect(refused.body.message).toContain(reason);
    }
  });

  it("injects a pod labelled mcpwarden.dev/inject=true in any namespace, and no other", async () => {
    const labelled = await createPod(plain, podManifest("labelled", { labels: { "mcpwarden.dev/inject": "true" }, annotations }));
    expect(sidecarsOf(labelled.body)).toHaveLength(1);
    const unlabelled = await createPod(plain, podManifest("unlabelled", { annotations }));
    expect(unlabelled.body.spec.initContainers).toBeUndefined();
  });

  it("never injects kube-system or the operator's own namespace", async () => {
    await kubectlOk(["label", "namespace", env.namespace, "mcpwarden.dev/inject=enabled", "--overwrite"]);
    const own = await createPod(env.namespace, podManifest("operator-neighbour", { annotations }));
    expect(own.status).toBe(201);
    expect(own.body.spec.initContainers).toBeUndefined();
    const system = await createPod("kube-system", podManifest(`system-${Date.now()}`, { labels: { "mcpwarden.dev/inject": "true" }, annotations }));
    expect(system.status).toBe(201);
    expect(system.body.spec.initContainers).toBeUndefined();
    await kubectlOk(["delete", "pod", system.body.metadata.name, "-n", "kube-system", "--wait=false"]);
  });

  it("counts admissions by result", async () => {
    const text = await operator.metrics();
    expect(metricValue(text, "mcpwarden_webhook_injections_total", '{result="injected"}')).toBeGreaterThanOrEqual(3);
    expect(metricValue(text, "mcpwarden_webhook_injections_total", '{result="refused"}')).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, "mcpwarden_webhook_injections_total", '{result="skipped"}')).toBeGreaterThanOrEqual(1);
  });
});
