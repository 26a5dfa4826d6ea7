// Injection into running pods: a Deployment of the demo server in a labelled namespace
// gets the native sidecar, runs 2/2 with the sidecar started first, and the injected
// security context, probes and resources hold inside the running containers.
import { beforeAll, expect, it } from "vitest";
import { createNamespace, describeE2e, e2e, kubectlJson, kubectlOk } from "./e2e-cluster.ts";
import { demoSelector, deployDemoServer } from "./demo-workload.ts";

interface ContainerStatus {
  name: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state: { running?: { startedAt: string } };
}
interface Pod {
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    initContainers?: { name: string; image: string; restartPolicy?: string; readinessProbe?: unknown; livenessProbe?: unknown; startupProbe?: unknown; resources: { limits?: Record<string, string>; requests?: Record<string, string> } }[];
  };
  status: { phase: string; initContainerStatuses?: ContainerStatus[]; containerStatuses?: ContainerStatus[] };
}

let namespace = "";
let pod: Pod;

describeE2e("a Deployment in an injected namespace", () => {
  beforeAll(async () => {
    namespace = await createNamespace("e2e-inject");
    await deployDemoServer(namespace);
    const list = await kubectlJson<{ items: Pod[] }>(["-n", namespace, "get", "pods", "-l", demoSelector]);
    pod = list.items[0]!;
  });

  it("gets the native sidecar: Running 2/2, the sidecar started (and Ready) before the server", () => {
    expect(pod.metadata.labels["mcpwarden.dev/injected"]).toBe("true");
    const sidecar = pod.spec.initContainers?.find((container) => container.name === "mcp-warden");
    expect(sidecar?.restartPolicy).toBe("Always");
    expect(sidecar?.image).toBe(e2e().images.sidecar);
    expect(pod.status.phase).toBe("Running");
    const sidecarStatus = pod.status.initContainerStatuses?.find((status) => status.name === "mcp-warden");
    const serverStatus = pod.status.containerStatuses?.find((status) => status.name === "server");
    expect(sidecarStatus?.ready && serverStatus?.ready).toBe(true);
    expect([sidecarStatus?.restartCount, serverStatus?.restartCount]).toEqual([0, 0]);
    // The kubelet starts a container only after the sidecar before it is started.
    expect(Date.parse(sidecarStatus!.state.running!.startedAt)).toBeLessThanOrEqual(Date.parse(serverStatus!.state.running!.startedAt));
  });

  it("runs the sidecar as user 65532 with no capabilities, no privilege escalation and a read-only root", async () => {
    const exec = (script: string): Promise<string> => kubectlOk(["-n", namespace, "exec", pod.metadata.name, "-c", "mcp-warden", "--", "sh", "-c", script]);
    expect((await exec("id -u; id -g")).trim().split("\n")).toEqual(["65532", "65532"]);
    const status = await exec("grep -E '^(CapEff|CapPrm|NoNewPrivs)' /proc/1/status");
    expect(status).toMatch(/CapEff:\s+0000000000000000/);
    expect(status).toMatch(/CapPrm:\s+0000000000000000/);
    expect(status).toMatch(/NoNewPrivs:\s+1/);
    expect(await exec("touch /app/written 2>&1 || echo refused")).toMatch(/Read-only file system/);
  });

  it("holds the injected resources and probes: the cgroup's memory limit and a Ready sidecar behind its probes", async () => {
    const sidecar = pod.spec.initContainers!.find((container) => container.name === "mcp-warden")!;
    expect(sidecar.readinessProbe).toBeDefined();
    expect(sidecar.livenessProbe).toBeDefined();
    const limit = sidecar.resources.limits?.memory;
    expect(limit).toBe("256Mi");
    const inCgroup = await kubectlOk(["-n", namespace, "exec", pod.metadata.name, "-c", "mcp-warden", "--", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]);
    expect(Number(inCgroup.trim())).toBe(256 * 1024 * 1024);
    // The probes answer: the admin port's /readyz and /healthz from inside the pod.
    const probes = await kubectlOk(["-n", namespace, "exec", pod.metadata.name, "-c", "server", "--", "node", "-e",
      "Promise.all(['/readyz','/healthz'].map(p=>fetch('http://127.0.0.1:9464'+p).then(r=>r.status))).then(s=>console.log(s.join(' ')))"]);
    expect(probes.trim()).toBe("200 200");
  });
});
