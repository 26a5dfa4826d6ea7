// What integration tests use: the shared control plane started by global-setup.ts,
// kubectl, per-test namespaces and less privileged users.
import { inject, beforeEach } from "vitest";
import { execFile } from "node:child_process";
import { readFileSync, mkdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { ControlPlaneInfo } from "./control-plane.ts";
import { tail } from "./control-plane.ts";
import { writeKubeconfig } from "./kubeconfig.ts";
import { issueCertificate, loadCertificateAuthority, type CertificateAuthority } from "../../operator/tls/certificates.ts";
import { packageRoot as repoRoot } from "../../cli/package-root.ts";

export type { ControlPlaneInfo } from "./control-plane.ts";
export { packageRoot as repoRoot } from "../../cli/package-root.ts";

export function controlPlane(): ControlPlaneInfo {
  return inject("controlPlane");
}

// Component logs go to files; a failing test prints their tails.
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    const { logDir } = controlPlane();
    for (const name of ["etcd.log", "kube-apiserver.log"]) {
      console.error(`--- ${name} (${join(logDir, name)}) ---\n${tail(join(logDir, name), 30)}`);
    }
  });
});

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      { env: options.env ?? process.env, cwd: options.cwd ?? repoRoot(), timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** The built kubectl with the admin kubeconfig unless another is given. */
export function kubectl(args: string[], opts: { kubeconfig?: string; input?: string; namespace?: string } = {}): Promise<CommandResult> {
  const cp = controlPlane();
  const full = [`--kubeconfig=${opts.kubeconfig ?? cp.kubeconfig}`, ...(opts.namespace ? [`--namespace=${opts.namespace}`] : []), ...args];
  return run(cp.kubectl, full, { input: opts.input });
}

/** kubectl that throws with its stderr when it fails. */
export async function kubectlOk(args: string[], opts: { kubeconfig?: string; input?: string; namespace?: string } = {}): Promise<string> {
  const result = await kubectl(args, opts);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** A new namespace with a unique name; tests never wait for its deletion. */
export async function createNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 40)}-${randomBytes(3).toString("hex")}`;
  const manifest = { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
  await kubectlOk(["create", "-f", "-"], { input: JSON.stringify(manifest) });
  return name;
}

let clientCa: CertificateAuthority | undefined;

/** A kubeconfig for `user` in `groups`, authenticated by a client certificate; RBAC decides what it may do. */
export async function kubeconfigFor(user: string, groups: string[] = []): Promise<string> {
  const cp = controlPlane();
  clientCa ??= await loadCertificateAuthority(readFileSync(cp.clientCaCertFile, "utf8"), readFileSync(cp.clientCaKeyFile, "utf8"));
  const cert = await issueCertificate(clientCa, { commonName: user, organizations: groups, usage: "client" });
  const dir = join(cp.stateDir, "users");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${user.replace(/[^a-zA-Z0-9_.-]/g, "_")}-${randomBytes(3).toString("hex")}.kubeconfig`);
  writeKubeconfig(path, { server: cp.server, caCertPem: readFileSync(cp.serverCaCertFile, "utf8"), user, certPem: cert.certPem, keyPem: cert.keyPem });
  return path;
}

/** Applies every CRD in crds/ and waits until each is Established. */
export async function applyCrds(): Promise<void> {
  const dir = join(repoRoot(), "crds");
  await kubectlOk(["apply", "--server-side", "--force-conflicts", "--field-manager=mcp-warden-tests", "-f", dir]);
  await kubectlOk(["wait", "--for=condition=Established", "--timeout=60s", "-f", dir]);
}
