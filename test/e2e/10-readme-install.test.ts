// The README's "Install in a cluster", run as written: every `sh` block of its numbered
// steps (its subsections are tested where they apply), in order, in bash with this cluster's kubeconfig — `make images`, `helm install`, injection
// for the demo namespace, the demo server, the demo policy until Programmed. This is how
// the shared release of the suite is installed, so the README cannot drift from what works.
import { expect, it } from "vitest";
import { dirname } from "node:path";
import { describeE2e, e2e, kubectlJson, run } from "./e2e-cluster.ts";
import { readmeBlocks } from "../support/readme-blocks.ts";

interface PodList {
  items: { metadata: { name: string }; status: { phase: string; containerStatuses?: { ready: boolean }[]; initContainerStatuses?: { name: string; ready: boolean }[] } }[];
}

describeE2e("README: Install in a cluster", () => {
  // Directly under the heading: the subsections (CRD adoption, Redis) need their own setting.
  const blocks = readmeBlocks()
    .filter((block) => (block.info === "sh" || block.info === "sh template") && block.headings.at(-1) === "## Install in a cluster")
    .map((block) => ({ ...block, template: block.info === "sh template" }));

  it("marks what needs the reader's own registry or engine as templates and leaves the rest runnable", () => {
    const runnable = blocks.filter((block) => !block.template).map((block) => block.text);
    expect(runnable.length).toBeGreaterThanOrEqual(4);
    expect(runnable.join("\n")).toContain("helm install mcp-warden charts/mcp-warden");
    for (const block of blocks.filter((b) => !b.template)) {
      expect(block.text, `README line ${block.line}`).not.toMatch(/registry\.example|docker push|kind load|kube-prometheus-stack/);
    }
  });

  it("runs every sh block of the section as written, and the demo server ends up injected and under its policy", async () => {
    const cluster = e2e();
    const env = { ...process.env, KUBECONFIG: cluster.kubeconfig, PATH: `${dirname(cluster.kubectl)}:${process.env.PATH ?? ""}` };
    for (const block of blocks.filter((b) => !b.template)) {
      const result = await run("bash", ["-euo", "pipefail", "-c", block.text], { env, timeoutMs: 900_000 });
      expect(result.code, `README line ${block.line}:\n${block.text}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`).toBe(0);
    }
    const pods = await kubectlJson<PodList>(["-n", "demo", "get", "pods", "-l", "app.kubernetes.io/name=demo-server"]);
    expect(pods.items).toHaveLength(1);
    const pod = pods.items[0]!;
    expect(pod.status.phase).toBe("Running");
    expect(pod.status.initContainerStatuses?.find((status) => status.name === "mcp-warden")?.ready).toBe(true);
    expect(pod.status.containerStatuses?.every((status) => status.ready)).toBe(true);
  }, 1_200_000);
});
