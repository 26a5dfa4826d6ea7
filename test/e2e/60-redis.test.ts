// Shared budgets across replicas: three replicas of the demo server (stateless Streamable
// HTTP: any replica answers any request, so plain round-robin Services work), every
// sidecar pointed at one Redis (`sidecar.redis.url`), and a policy whose identity is a
// header. Two callers, each calling through the Service on fresh connections that kube-proxy
// spreads over the replicas, get exactly their own 10 calls a minute — not 10 per replica.
import { afterAll, beforeAll, expect, it } from "vitest";
import { callTool, createNamespace, describeE2e, e2e, eventually, kubectlJson, kubectlOk, mcpClient, metric, podUrl, serviceUrl, stopPortForwards, upgradeRelease } from "./e2e-cluster.ts";
import { demoPolicy, demoSelector, deployDemoServer } from "./demo-workload.ts";

const CALLS = 13;
let namespace = "";
let cache = "";

function redisManifests(ns: string): string {
  const labels = { "app.kubernetes.io/name": "redis" };
  return JSON.stringify({
    apiVersion: "v1",
    kind: "List",
    items: [
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "redis", namespace: ns, labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              automountServiceAccountToken: false,
              securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
              containers: [
                {
                  name: "redis",
                  image: e2e().images.redis,
                  imagePullPolicy: "IfNotPresent",
                  ports: [{ name: "redis", containerPort: 6379 }],
                  readinessProbe: { tcpSocket: { port: "redis" }, periodSeconds: 2 },
                  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                },
              ],
            },
          },
        },
      },
      { apiVersion: "v1", kind: "Service", metadata: { name: "redis", namespace: ns }, spec: { selector: labels, ports: [{ name: "redis", port: 6379, targetPort: "redis" }] } },
    ],
  });
}

describeE2e("rate limits shared in Redis across three replicas", () => {
  beforeAll(async () => {
    cache = await createNamespace("e2e-cache", {});
    await kubectlOk(["apply", "-f", "-"], { input: redisManifests(cache) });
    await kubectlOk(["-n", cache, "rollout", "status", "deployment/redis", "--timeout=180s"]);
    // Sidecars injected from now on share budgets in this Redis.
    await upgradeRelease([`sidecar.redis.url=redis://redis.${cache}.svc:6379`]);
    namespace = await createNamespace("e2e-redis");
    await deployDemoServer(namespace, { replicas: 3, args: ["--http", "0.0.0.0:8080", "--stateless"] });
    // The demo policy's identity: the x-agent-id header.
    await kubectlOk(["apply", "-f", "-"], { input: demoPolicy(namespace) });
    await eventually("the policy Programmed on three pods", async () => {
      const policy = await kubectlJson<{ status?: { conditions?: { type: string; status: string }[]; targets?: { inSync: number } } }>(["-n", namespace, "get", "mcppolicy", "demo"]);
      return policy.status?.conditions?.some((c) => c.type === "Programmed" && c.status === "True") && policy.status.targets?.inSync === 3 ? true : undefined;
    });
  });
  afterAll(async () => {
    stopPortForwards();
    await upgradeRelease(["sidecar.redis.url="]);
  });

  it("gives each of two callers exactly their own budget, whichever replica answers", async () => {
    const pods = (await kubectlJson<{ items: { metadata: { name: string }; spec: { initContainers?: { name: string; args?: string[] }[] } }[] }>(["-n", namespace, "get", "pods", "-l", demoSelector])).items;
    expect(pods).toHaveLength(3);
    for (const pod of pods) expect(pod.spec.initContainers?.find((c) => c.name === "mcp-warden")?.args).toContain(`--redis=redis://redis.${cache}.svc:6379`);

    // Locally through the Service: a new client is a new connection, and kube-proxy picks a
    // replica for each. Another cluster's Service is reached through `kubectl port-forward`,
    // which always picks one pod, so there the calls go to each replica's sidecar in turn.
    const urls =
      e2e().mode === "local"
        ? [`${await serviceUrl(namespace, "demo-server")}/mcp`]
        : await Promise.all(pods.map(async (pod) => `${await podUrl(namespace, pod.metadata.name, 9000)}/mcp`));
    const allowed: Record<string, number> = {};
    let turn = 0;
    for (const caller of ["alice", "bob"]) {
      allowed[caller] = 0;
      for (let i = 0; i < CALLS; i++) {
        const { client, close } = await mcpClient(urls[turn++ % urls.length] as string, { "x-agent-id": caller });
        try {
          const outcome = await callTool(client, "run_test_iteration", { scenario: caller });
          if (!outcome.isError) allowed[caller]++;
          else expect(outcome.decision?.decision).toBe("rate_limited");
        } finally {
          await close();
        }
      }
    }
    expect(allowed).toEqual({ alice: 10, bob: 10 });

    // Across the replicas: every sidecar counted what it decided; together exactly 20 allowed.
    const perPod: number[] = [];
    for (const pod of pods) {
      const admin = await podUrl(namespace, pod.metadata.name, 9464);
      perPod.push((await metric(admin, /^mcpwarden_tool_calls_total\{tool="run_test_iteration",decision="allow"/)) ?? 0);
    }
    expect(perPod.reduce((a, b) => a + b, 0)).toBe(20);
    expect(perPod.filter((count) => count > 0).length, `allowed calls per replica: ${perPod.join(", ")}`).toBeGreaterThanOrEqual(2);
  });
});
