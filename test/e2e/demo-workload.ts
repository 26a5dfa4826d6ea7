// The demo server's Deployment and Service from examples/demo/kubernetes/demo-server.yaml,
// placed in a test's namespace with the suite's image (and replicas or server flags when a
// test needs them), so every test runs what the README deploys.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadAll } from "js-yaml";
import { e2e, kubectlOk, repoRoot } from "./e2e-cluster.ts";

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: Record<string, unknown> & { replicas?: number; template?: { spec: { containers: { image: string; args?: string[] }[] } } };
}

export const demoSelector = "app.kubernetes.io/name=demo-server";

export async function deployDemoServer(namespace: string, options: { replicas?: number; args?: string[] } = {}): Promise<void> {
  const manifests = loadAll(readFileSync(join(repoRoot(), "examples", "demo", "kubernetes", "demo-server.yaml"), "utf8")) as Manifest[];
  const items = manifests
    .filter((manifest) => manifest.kind !== "Namespace")
    .map((manifest) => {
      manifest.metadata.namespace = namespace;
      if (manifest.kind === "Deployment") {
        manifest.spec.replicas = options.replicas ?? 1;
        const container = manifest.spec.template!.spec.containers[0]!;
        container.image = e2e().images["demo-server"]!;
        if (options.args !== undefined) container.args = options.args;
      }
      return manifest;
    });
  await kubectlOk(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items }) });
  await kubectlOk(["-n", namespace, "rollout", "status", "deployment/demo-server", "--timeout=300s"], { timeoutMs: 320_000 });
}

/** examples/demo/kubernetes/policy.yaml in another namespace, optionally changed. */
export function demoPolicy(namespace: string, change: (spec: Record<string, unknown>) => void = () => undefined): string {
  const [policy] = loadAll(readFileSync(join(repoRoot(), "examples", "demo", "kubernetes", "policy.yaml"), "utf8")) as Manifest[];
  policy!.metadata.namespace = namespace;
  change(policy!.spec);
  return JSON.stringify(policy);
}
