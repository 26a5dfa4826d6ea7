// The chart as users get it: `make chart` packages a versioned archive; the README's CRD
// adoption steps, run as printed against the real API server, let `helm install` take
// over CRDs applied earlier with kubectl (both of them); installing from the archive
// gives what installing from the folder gives; NOTES.txt warns about localhost/ images.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { applyCrds, controlPlane, kubectl, kubectlOk, repoRoot, run } from "../harness/index.ts";
import { crdNamesInRepo, helm, helmOk, parseManifests } from "./chart-helm.ts";
import { shellBlocksUnder } from "../support/readme-blocks.ts";

// The README's release and namespace.
const RELEASE = "mcp-warden";
const NAMESPACE = "mcp-warden";
const version = (JSON.parse(readFileSync(join(repoRoot(), "package.json"), "utf8")) as { version: string }).version;
const archive = join(repoRoot(), "dist", "charts", `mcp-warden-${version}.tgz`);
const helmHome = mkdtempSync(join(tmpdir(), "mcp-warden-readme-helm-"));

/** What a user's shell has after `make cluster`'s two exports. */
function userEnv(): NodeJS.ProcessEnv {
  const cp = controlPlane();
  return {
    ...process.env,
    PATH: [dirname(cp.kubectl), dirname(cp.helm), process.env["PATH"] ?? ""].join(delimiter),
    KUBECONFIG: cp.kubeconfig,
    HELM_CONFIG_HOME: join(helmHome, "config"),
    HELM_CACHE_HOME: join(helmHome, "cache"),
    HELM_DATA_HOME: join(helmHome, "data"),
  };
}

/** The CRDs as `kubectl apply --server-side -f crds/` leaves them: no release owns them. */
async function crdsAppliedWithKubectl(): Promise<void> {
  await applyCrds();
  for (const crd of crdNamesInRepo()) {
    await kubectlOk(["label", "crd", crd, "app.kubernetes.io/managed-by-"]);
    await kubectlOk(["annotate", "crd", crd, "meta.helm.sh/release-name-", "meta.helm.sh/release-namespace-"]);
  }
}

const kindsAndNames = (manifest: string): string[] => parseManifests(manifest).map((object) => `${object.kind}/${object.metadata.name}`).sort();

/** Cluster-scoped objects other suites made under this release's names, set aside meanwhile. */
const setAside: string[] = [];

/**
 * Other suites apply chart objects by hand under the names the release `mcp-warden` gives
 * them (operator-fixture.ts applies the operator's ClusterRole); a user's cluster has no
 * such leftovers. They are deleted before the README's steps and restored afterwards.
 */
async function setAsideLeftovers(): Promise<void> {
  const rendered = parseManifests(await helmOk(["template", RELEASE, archive, "--namespace", NAMESPACE]));
  for (const object of rendered.filter((candidate) => candidate.metadata.namespace === undefined && candidate.kind !== "CustomResourceDefinition")) {
    const ref = `${object.kind}.${object.apiVersion.includes("/") ? object.apiVersion.split("/")[0] : ""}`.replace(/\.$/, "");
    const found = await kubectl(["get", ref, object.metadata.name, "-o", "json"]);
    if (found.code !== 0) continue;
    const existing = JSON.parse(found.stdout) as { metadata: { labels?: Record<string, string>; resourceVersion?: string; uid?: string; creationTimestamp?: string; managedFields?: unknown } };
    if (existing.metadata.labels?.["app.kubernetes.io/managed-by"] === "Helm") continue;
    for (const field of ["resourceVersion", "uid", "creationTimestamp", "managedFields"] as const) delete existing.metadata[field];
    setAside.push(JSON.stringify(existing));
    await kubectlOk(["delete", ref, object.metadata.name]);
  }
}

beforeAll(async () => {
  const made = await run("make", ["--no-print-directory", "chart"], { timeoutMs: 300_000 });
  expect(made.code, made.stderr).toBe(0);
  await setAsideLeftovers();
}, 360_000);

afterAll(async () => {
  // A release left installed would keep its webhooks in the way of later suites.
  await helm(["uninstall", RELEASE, "--namespace", NAMESPACE]);
  for (const object of setAside) await kubectlOk(["apply", "--server-side", "--force-conflicts", "--field-manager=mcp-warden-tests", "-f", "-"], { input: object });
  await applyCrds();
});

describe("the chart archive and the README's CRD adoption", () => {
  it("make chart writes a chart archive versioned as package.json", async () => {
    expect(existsSync(archive)).toBe(true);
    const shown = await helmOk(["show", "chart", archive]);
    expect(shown).toMatch(new RegExp(`^version: ${version.replaceAll(".", "\\.")}$`, "m"));
    expect(shown).toMatch(new RegExp(`^appVersion: ${version.replaceAll(".", "\\.")}$`, "m"));
  });

  it("without adoption helm refuses CRDs applied with kubectl; the README's steps adopt both and helm install succeeds", async () => {
    await crdsAppliedWithKubectl();
    const refused = await helm(["install", RELEASE, archive, "--namespace", NAMESPACE, "--create-namespace"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("invalid ownership metadata");

    const [steps, ...others] = shellBlocksUnder("How CRD upgrades work", "meta.helm.sh/release-name");
    expect(others).toEqual([]);
    expect(steps?.text).toContain("helm install");
    const ran = await run("bash", ["-euo", "pipefail", "-c", steps?.text ?? ""], { env: userEnv(), cwd: repoRoot(), timeoutMs: 180_000 });
    expect(ran.code, ran.stderr).toBe(0);
    for (const crd of crdNamesInRepo()) {
      const object = JSON.parse(await kubectlOk(["get", "crd", crd, "-o", "json"])) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
      expect(object.metadata.labels["app.kubernetes.io/managed-by"]).toBe("Helm");
      expect(object.metadata.annotations["meta.helm.sh/release-name"]).toBe(RELEASE);
    }
    expect((await helmOk(["status", RELEASE, "--namespace", NAMESPACE])).split("\n")).toContain("STATUS: deployed");
  });

  it("helm install from the archive creates what the folder created", async () => {
    const fromFolder = kindsAndNames(await helmOk(["get", "manifest", RELEASE, "--namespace", NAMESPACE]));
    await helmOk(["uninstall", RELEASE, "--namespace", NAMESPACE]);
    const installed = await helmOk(["install", RELEASE, archive, "--namespace", NAMESPACE]);
    expect(installed).toContain("STATUS: deployed");
    const fromArchive = kindsAndNames(await helmOk(["get", "manifest", RELEASE, "--namespace", NAMESPACE]));
    expect(fromArchive).toEqual(fromFolder);
    for (const object of parseManifests(await helmOk(["get", "manifest", RELEASE, "--namespace", NAMESPACE]))) {
      const ref = `${object.kind}.${object.apiVersion.includes("/") ? object.apiVersion.split("/")[0] : ""}`.replace(/\.$/, "");
      const found = await kubectl(["get", ref, object.metadata.name, "-o", "name"], object.metadata.namespace ? { namespace: object.metadata.namespace } : {});
      expect(found.code, `${object.kind}/${object.metadata.name}: ${found.stderr}`).toBe(0);
    }
  });

  it("NOTES.txt warns when an image is a local build (localhost/), and not otherwise", async () => {
    const notes = async (operator: string, sidecar: string): Promise<string> => {
      const upgraded = await helmOk(["upgrade", RELEASE, archive, "--namespace", NAMESPACE, "--set", `operator.image.repository=${operator}`, "--set", `sidecar.image.repository=${sidecar}`]);
      return upgraded.slice(upgraded.indexOf("NOTES:"));
    };
    const local = await notes("localhost/mcp-warden/operator", "localhost/mcp-warden/sidecar");
    expect(local).toContain(`WARNING: localhost/mcp-warden/operator:${version} and localhost/mcp-warden/sidecar:${version}\nare local builds (make images)`);
    expect(local).toContain("kind load docker-image");
    expect(await notes("registry.example/team/operator", "localhost/mcp-warden/sidecar")).toContain(`WARNING: localhost/mcp-warden/sidecar:${version}\nare local builds`);
    expect(await notes("registry.example/team/operator", "registry.example/team/sidecar")).not.toContain("WARNING");
  });
});
