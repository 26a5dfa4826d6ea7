// The sidecar the operator injects, as the kubelet starts it: the container's env
// resolved (Secrets, the downward API), its args expanded, then parsed by `mcp-warden
// sidecar` exactly as in the pod. Here because it needs both sides: the injector
// (operator/) and the sidecar's flags (cli/); neither of those imports the other.
import { Command } from "commander";
import { describe, expect, it, vi } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { load } from "js-yaml";
import { defaultInjectionConfig, injectSidecar, type InjectionConfig } from "../operator/injection/index.ts";
import type { Pod } from "../operator/kube-objects.ts";
import type { RunningSidecar, SidecarConfig } from "../sidecar/start-sidecar.ts";
import { registerSidecarCommand } from "./sidecar-command.ts";

const basicPod = fileURLToPath(new URL("../test/golden/inject/basic.yaml", import.meta.url));
const stdioPod = fileURLToPath(new URL("../test/golden/inject/stdio.yaml", import.meta.url));

const config = defaultInjectionConfig({
  image: "mcp-warden:test",
  controlPlaneUrl: "https://mcp-warden.mcp-warden-system.svc:9444",
  caPem: "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n",
  skipNamespaces: ["kube-system", "mcp-warden-system"],
});

/**
 * What the kubelet does to a container's args (Kubernetes "dependent environment
 * variables"): $(NAME) becomes the value of the container's variable NAME, $$ a literal $,
 * and a reference to an undefined variable stays as written.
 */
function expandLikeKubelet(arg: string, env: Record<string, string>): string {
  return arg.replace(/\$\$|\$\(([^)]*)\)/g, (match, name: string | undefined) => (match === "$$" ? "$" : (env[name as string] ?? match)));
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: unknown };
}

describe("the injected sidecar, as the kubelet starts it", () => {
  const basic = load(readFileSync(basicPod, "utf8")) as Pod;
  const redisUrl = "redis://:s3cret@redis.cache.svc:6379/1";
  const secrets: Record<string, Record<string, string>> = { "mcp-warden-redis": { url: redisUrl } };

  /** The container's environment as the kubelet resolves it, then its args expanded and parsed by `mcp-warden sidecar`. */
  async function startedSidecar(injection: InjectionConfig, pod: Pod = basic): Promise<{ config: SidecarConfig; specText: string }> {
    const result = injectSidecar(pod, injection);
    const sidecar = (result as { pod: Pod }).pod.spec?.initContainers?.[0] as unknown as { args: string[]; env: EnvVar[] };
    const env: Record<string, string> = {};
    for (const entry of sidecar.env) {
      const ref = entry.valueFrom?.secretKeyRef;
      const value = entry.value ?? (ref === undefined ? `(${entry.name} from the downward API)` : secrets[ref.name]?.[ref.key]);
      if (value === undefined) throw new Error(`the kubelet would not start the pod: ${JSON.stringify(entry)}`);
      env[entry.name] = value;
    }
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const started: SidecarConfig[] = [];
    const errors: string[] = [];
    const program = new Command("mcp-warden").exitOverride().configureOutput({ writeErr: (text) => void errors.push(text), writeOut: () => undefined });
    registerSidecarCommand(program, async (config) => (started.push(config), { close: async () => undefined } as unknown as RunningSidecar), {
      onSignal: () => undefined,
      exit: () => undefined,
      stderr: (line) => void errors.push(line),
    });
    try {
      const [, ...args] = sidecar.args.map((arg) => expandLikeKubelet(arg, env));
      await program.parseAsync(["node", "mcp-warden", "sidecar", ...args]);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(errors).toEqual([]);
    expect(started).toHaveLength(1);
    return { config: started[0] as SidecarConfig, specText: JSON.stringify(sidecar) };
  }

  it("connects to the operator's stream with its CA and counts rate limits in memory without Redis", async () => {
    const { config: started } = await startedSidecar(config);
    expect(started.controlPlane).toMatchObject({ url: new URL(config.controlPlaneUrl).href, caPem: config.caPem });
    expect(started.redisUrl).toBeUndefined();
  });

  it("shares rate limits in the Redis of --sidecar-redis-url, with the failure mode given", async () => {
    const { config: started } = await startedSidecar({ ...config, redis: { url: "redis://redis.cache.svc:6379/2", failureMode: "deny" } });
    expect([started.redisUrl, started.rateLimitFailureMode]).toEqual(["redis://redis.cache.svc:6379/2", "deny"]);
  });

  it("gets the Redis URL of --sidecar-redis-secret from the Secret, which the pod spec never contains", async () => {
    const { config: started, specText } = await startedSidecar({ ...config, redis: { secret: { name: "mcp-warden-redis", key: "url" }, failureMode: "allow" } });
    expect([started.redisUrl, started.rateLimitFailureMode]).toEqual([redisUrl, "allow"]);
    expect(specText).not.toContain("s3cret");
  });

  it("reaches a stdio server through the launcher's socket, with no forwarded paths", async () => {
    const { config: started } = await startedSidecar({ ...config, forwardPaths: ["/api"] }, load(readFileSync(stdioPod, "utf8")) as Pod);
    expect(started.upstream).toEqual({ socket: "/var/run/mcp-warden/stdio/server.sock" });
    expect(started.forwardPaths).toEqual([]);
  });
});
