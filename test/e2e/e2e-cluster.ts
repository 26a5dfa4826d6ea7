// What end-to-end tests use: the shared cluster from global-setup.ts, kubectl and helm
// against it, a namespace per file, MCP clients through Services, and waiting for a
// condition to hold (never for a fixed time).
import { inject, describe } from "vitest";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { HostSnapshot } from "../harness/host-state.ts";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Agent, fetch as undiciFetch } from "undici";
import { packageRoot } from "../../cli/package-root.ts";

export interface E2eCluster {
  mode: "local" | "context" | "skip";
  kubeconfig: string;
  kubectl: string;
  helm: string;
  /** Image references by short name: operator, sidecar, demo-server, mockloop, redis. */
  images: Record<string, string>;
  workDir: string;
  /** local: the cluster's supervisor process (cluster-main.js --e2e) and its logs. */
  clusterPid?: number;
  logDir?: string;
  /** local: the cluster namespaces' init, to `nsenter --target` it. */
  namespaceInitPid?: number;
  hostBefore?: HostSnapshot;
  repoRoot?: string;
}

/**
 * Command lines of processes only the local cluster runs (for the host-state comparison):
 * its node components, anything with its state folder in its arguments (etcd and
 * kube-apiserver; the integration tests' own run elsewhere), the namespace holder, the
 * nsenter launchers and the lock holder.
 */
export const clusterProcessPattern =
  /\/cluster\/run\/|(^|\/)(kubelet|kube-proxy|kube-scheduler|kube-controller-manager|containerd|containerd-shim-runc-v2|coredns)( |$)|^nsenter --target|^unshare --pid|\/run\/mcp-warden\/cluster\.lock/;

export function e2e(): E2eCluster {
  return inject("e2e");
}

/** describe() that skips under MCPWARDEN_E2E=skip (the summary counts the tests as skipped). */
export const describeE2e = describe.skipIf(process.env.MCPWARDEN_E2E === "skip");
/** describe() for what only the local cluster can show (its logs, the host it runs on). */
export const describeLocal = describe.skipIf(process.env.MCPWARDEN_E2E === "skip" || Boolean(process.env.MCPWARDEN_E2E_CONTEXT));

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { cwd: packageRoot(), env: options.env ?? process.env, timeout: options.timeoutMs ?? 180_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
    child.stdin?.end(options.input);
  });
}

export function kubectl(args: string[], options: { input?: string; kubeconfig?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  const cluster = e2e();
  return run(cluster.kubectl, [`--kubeconfig=${options.kubeconfig ?? cluster.kubeconfig}`, ...args], options);
}

export async function kubectlOk(args: string[], options: { input?: string; kubeconfig?: string; timeoutMs?: number } = {}): Promise<string> {
  const result = await kubectl(args, options);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

export async function kubectlJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await kubectlOk([...args, "-o", "json"])) as T;
}

export async function helmOk(args: string[], timeoutMs = 600_000): Promise<string> {
  const cluster = e2e();
  const result = await run(cluster.helm, [`--kubeconfig=${cluster.kubeconfig}`, ...args], { timeoutMs });
  if (result.code !== 0) throw new Error(`helm ${args.join(" ")} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/**
 * `helm upgrade` of the shared release, then until only the new operator replicas are
 * left: a replaced replica keeps answering webhooks (with its old flags) while it drains,
 * so a pod created before it is gone may be injected with the old settings.
 */
export async function upgradeRelease(set: string[]): Promise<void> {
  await helmOk(["upgrade", "mcp-warden", "charts/mcp-warden", "-n", "mcp-warden", "--reuse-values", ...set.flatMap((value) => ["--set", value]), "--wait", "--timeout=5m"]);
  await kubectlOk(["-n", "mcp-warden", "rollout", "status", "deployment/mcp-warden-operator", "--timeout=180s"]);
  await eventually("the replaced operator replicas to be gone", async () => {
    const pods = await kubectlJson<{ items: { metadata: { deletionTimestamp?: string } }[] }>(["-n", "mcp-warden", "get", "pods", "-l", "app.kubernetes.io/component=operator"]);
    return pods.items.every((pod) => pod.metadata.deletionTimestamp === undefined) ? true : undefined;
  });
}

/** A new namespace with a unique name, labelled for injection unless told otherwise. */
export async function createNamespace(prefix: string, labels: Record<string, string> = { "mcpwarden.dev/inject": "enabled" }): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await kubectlOk(["create", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } }) });
  return name;
}

/** Polls `check` until it returns a value other than undefined; the last error or value is in the timeout's message. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 180_000, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
      last = "not yet";
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${last}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The base URL (http://host:port) of a Service's port, reachable from this process. */
export async function serviceUrl(namespace: string, service: string, port = 80): Promise<string> {
  if (e2e().mode === "local") {
    const ip = (await kubectlOk(["-n", namespace, "get", "service", service, "-o", "jsonpath={.spec.clusterIP}"])).trim();
    return `http://${ip}:${port}`;
  }
  return portForward(namespace, `service/${service}`, port);
}

/** The base URL of a pod's port, reachable from this process. */
export async function podUrl(namespace: string, pod: string, port: number): Promise<string> {
  if (e2e().mode === "local") {
    const ip = (await kubectlOk(["-n", namespace, "get", "pod", pod, "-o", "jsonpath={.status.podIP}"])).trim();
    return `http://${ip}:${port}`;
  }
  return portForward(namespace, `pod/${pod}`, port);
}

/** One sample of a Prometheus text exposition (`name{labels} value`), or undefined. */
export async function metric(baseUrl: string, line: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const found = text.split("\n").find((candidate) => line.test(candidate));
  return found === undefined ? undefined : Number(found.trim().split(/\s+/).at(-1));
}

/** `kubectl port-forward` to a pod or Service (another cluster's addresses are not routable from here). */
async function portForward(namespace: string, target: string, port: number): Promise<string> {
  const cluster = e2e();
  const child = spawn(cluster.kubectl, [`--kubeconfig=${cluster.kubeconfig}`, "-n", namespace, "port-forward", target, `:${port}`], { stdio: ["ignore", "pipe", "pipe"] });
  forwards.push(child);
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) resolve(`http://127.0.0.1:${match[1]}`);
    });
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`kubectl port-forward ${target} exited ${code}: ${output}`)));
  });
}

const forwards: ReturnType<typeof spawn>[] = [];
export function stopPortForwards(): void {
  for (const child of forwards.splice(0)) child.kill();
}

/**
 * A real MCP SDK client on its own connection pool (so a new client is a new TCP
 * connection, which kube-proxy may send to another replica), with extra headers — by
 * default the demo policy's identity header, naming the agent `e2e-agent`.
 */
export async function mcpClient(url: string, headers: Record<string, string> = { "x-agent-id": "e2e-agent" }): Promise<{ client: Client; close: () => Promise<void> }> {
  const agent = new Agent({ keepAliveTimeout: 1_000 });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers },
    fetch: (input, init) => undiciFetch(input as string, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>,
  });
  const client = new Client({ name: "mcp-warden-e2e", version: "0.0.0" });
  await client.connect(transport);
  return {
    client,
    close: async () => {
      // DELETE ends the session as a well-behaved client does: a stdio server's process
      // then exits at once instead of at the sidecar's idle timeout.
      await transport.terminateSession().catch(() => undefined);
      await client.close().catch(() => undefined);
      await agent.close().catch(() => undefined);
    },
  };
}

export interface ToolOutcome {
  isError: boolean;
  text: string;
  decision?: { decision: string; policy: string; rule: string; reason: string; retryAfterSeconds?: number };
}

export async function callTool(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolOutcome> {
  const result = (await client.callTool({ name, arguments: args })) as { isError?: boolean; content?: { type: string; text?: string }[]; _meta?: Record<string, unknown> };
  return {
    isError: result.isError === true,
    text: (result.content ?? []).map((part) => part.text ?? "").join("\n"),
    decision: result._meta?.["mcpwarden.dev/decision"] as ToolOutcome["decision"],
  };
}

/** `ran TOOL` lines the demo server logged in every pod of a Deployment (calls that reached it). */
export async function callsThatReachedServer(namespace: string, selector: string): Promise<string[]> {
  const logs = await kubectlOk(["-n", namespace, "logs", "-l", selector, "-c", "server", "--tail=-1", "--prefix=false"]);
  return logs.split("\n").filter((line) => line.startsWith("ran ")).map((line) => line.slice(4));
}

export { packageRoot as repoRoot };
