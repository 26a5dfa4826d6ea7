// The chart's operator as it runs: two replicas Ready, one leader holding the Lease, a
// start that logs nothing at warn or error level, no image ever pulled, and a `helm
// upgrade` that rolls the replicas while pods keep being admitted.
import { expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { Resolver } from "node:dns/promises";
import { join } from "node:path";
import { createNamespace, describeE2e, describeLocal, e2e, eventually, helmOk, kubectl, kubectlJson, kubectlOk, run, upgradeRelease } from "./e2e-cluster.ts";
import { clusterNetwork } from "../harness/node-config.ts";

const NS = "mcp-warden";

interface Pod {
  metadata: { name: string; creationTimestamp: string; labels?: Record<string, string> };
  spec: { containers: { image: string }[] };
  status: { phase: string; conditions?: { type: string; status: string }[] };
}

async function operatorPods(): Promise<Pod[]> {
  const list = await kubectlJson<{ items: Pod[] }>(["-n", NS, "get", "pods", "-l", "app.kubernetes.io/component=operator"]);
  return list.items.filter((pod) => pod.status.phase !== "Succeeded");
}

const ready = (pod: Pod): boolean => pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

/** Log lines above info of a pod: pino's numeric levels (40 warn, 50 error, 60 fatal) or labels. */
async function warningsOf(pod: string): Promise<string[]> {
  const logs = await kubectlOk(["-n", NS, "logs", pod]);
  return logs.split("\n").filter((line) => /"level":(4\d|5\d|6\d|"warn"|"error"|"fatal")/.test(line));
}

describeE2e("the operator", () => {
  it("runs two Ready replicas from the chart's images, one of them holding the leader Lease", async () => {
    const pods = await eventually("two Ready operator pods", async () => {
      const list = await operatorPods();
      return list.length === 2 && list.every(ready) ? list : undefined;
    });
    for (const pod of pods) expect(pod.spec.containers[0]?.image).toBe(e2e().images.operator);
    const lease = await eventually("a leader", async () => {
      const found = await kubectlJson<{ spec: { holderIdentity?: string } }>(["-n", NS, "get", "lease", "mcp-warden-operator"]);
      return found.spec.holderIdentity ? found : undefined;
    });
    expect(pods.map((pod) => pod.metadata.name)).toContain(lease.spec.holderIdentity);
  });

  it("starts cleanly: neither replica logs a line at warn level or above", async () => {
    for (const pod of await operatorPods()) expect(await warningsOf(pod.metadata.name), pod.metadata.name).toEqual([]);
  });

  it("rolls both replicas on `helm upgrade` with changed values, and pods keep being admitted meanwhile", async () => {
    const before = new Set((await operatorPods()).map((pod) => pod.metadata.name));
    const injected = await createNamespace("e2e-upgrade");
    const probe = JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { generateName: "admission-probe-", namespace: injected, annotations: { "mcpwarden.dev/upstream-port": "8080" } },
      spec: { containers: [{ name: "server", image: e2e().images["demo-server"], ports: [{ containerPort: 8080 }] }] },
    });
    // Every pod creation in an injected namespace goes through the operator's webhook
    // (failurePolicy Fail); a server-side dry run admits it without running it.
    const refusals: string[] = [];
    let admitted = 0;
    let upgrading = true;
    const prober = (async () => {
      while (upgrading) {
        const result = await kubectl(["create", "--dry-run=server", "-o", "name", "-f", "-"], { input: probe });
        if (result.code === 0) admitted++;
        else refusals.push(result.stderr.trim());
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    await helmOk(["upgrade", "mcp-warden", "charts/mcp-warden", "-n", NS, "--reuse-values", "--set", "operator.logLevel=debug", "--wait", "--timeout=5m"]);
    await kubectlOk(["-n", NS, "rollout", "status", "deployment/mcp-warden-operator", "--timeout=180s"]);
    upgrading = false;
    await prober;
    expect(refusals).toEqual([]);
    expect(admitted).toBeGreaterThan(0);
    const after = await eventually("the old replicas to be gone", async () => {
      const pods = await operatorPods();
      return pods.length === 2 && pods.every(ready) && pods.every((pod) => !before.has(pod.metadata.name)) ? pods : undefined;
    });
    expect(after).toHaveLength(2);
    // Back to the default for the files after this one.
    await upgradeRelease(["operator.logLevel=info"]);
    await kubectlOk(["delete", "namespace", injected, "--wait=false"]);
  });
});

describeLocal("the local node", () => {
  it("never pulls an image: neither the kubelet nor containerd logs a pull, and no pod has a Pulling event", async () => {
    const logDir = e2e().logDir!;
    const kubelet = readFileSync(join(logDir, "kubelet.log"), "utf8");
    const containerd = readFileSync(join(logDir, "containerd.log"), "utf8");
    expect(kubelet.split("\n").filter((line) => /Pulling image|PullImage/.test(line))).toEqual([]);
    expect(containerd.split("\n").filter((line) => /PullImage|fetch.*registry|resolving/i.test(line))).toEqual([]);
    const events = await kubectlJson<{ items: { reason: string; message: string }[] }>(["get", "events", "-A"]);
    // "Pulled" with "already present on machine" is the kubelet finding the image, not a pull.
    const pulls = events.items.filter((event) => event.reason === "Pulling" || (event.reason === "Pulled" && !event.message.includes("already present on machine")));
    expect(pulls.map((event) => event.message)).toEqual([]);
    expect(events.items.some((event) => event.reason === "Pulled")).toBe(true);
    // The kubelet did start containers from these images (the logs are the real ones).
    expect(containerd).toMatch(/StartContainer/);
  });

  it("keeps its traffic inside: no default route, no masquerade, CoreDNS answers for cluster.local only", async () => {
    const inside = (command: string[]): Promise<{ code: number; stdout: string }> => run("nsenter", [`--target=${e2e().namespaceInitPid}`, "--net", "--mount", "--pid", "--", ...command]);
    const routes = (await inside(["ip", "route", "show"])).stdout;
    expect(routes).not.toMatch(/^default /m);
    expect(routes).toContain(`${clusterNetwork.serviceCidr} dev eth0`);
    // kube-proxy's one MASQUERADE is for packets it marked (hairpin and Service traffic from the host), never a blanket rule.
    const nat = (await inside(["iptables-save", "-t", "nat"])).stdout.split("\n").filter((line) => /-j MASQUERADE/.test(line));
    expect(nat.every((line) => /--mark|KUBE-POSTROUTING/.test(line)), nat.join("\n")).toBe(true);
    const dns = new Resolver({ timeout: 3_000, tries: 1 });
    dns.setServers([clusterNetwork.dnsServiceIp]);
    expect(await dns.resolve4("kubernetes.default.svc.cluster.local")).toEqual([clusterNetwork.apiServiceIp]);
    await expect(dns.resolve4("example.com")).rejects.toMatchObject({ code: "ESERVFAIL" });
  });

  it("runs no containerd of Debian's on the host: the package's unit is not enabled and nothing of the cluster ran before the suite", () => {
    expect(existsSync("/etc/systemd/system/multi-user.target.wants/containerd.service")).toBe(false);
    expect(e2e().hostBefore?.processes).toEqual([]);
  });
});
