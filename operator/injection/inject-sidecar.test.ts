// Golden files: test/golden/inject/X.yaml → X.injected.yaml, the pod after injection
// (or, for a pod left alone or refused, what happened). Regenerate after a deliberate
// change with MCPWARDEN_UPDATE_GOLDEN=1 and review the diff.
import { Command } from "commander";
import { describe, expect, it, vi } from "vitest";
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dump, load } from "js-yaml";
import type { Pod } from "../kube-objects.ts";
import { registerSidecarCommand } from "../../cli/sidecar-command.ts";
import type { RunningSidecar, SidecarConfig } from "../../sidecar/start-sidecar.ts";
import { defaultInjectionConfig, type InjectionConfig } from "./injection-config.ts";
import { injectSidecar } from "./inject-sidecar.ts";

const goldenDir = fileURLToPath(new URL("../../test/golden/inject", import.meta.url));
const update = process.env.MCPWARDEN_UPDATE_GOLDEN === "1";

const config = defaultInjectionConfig({
  image: "mcp-warden:test",
  controlPlaneUrl: "https://mcp-warden.mcp-warden-system.svc:9444",
  caPem: "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n",
  skipNamespaces: ["kube-system", "mcp-warden-system"],
});

// Inputs injected by an operator configured differently from `config`.
const configFor: Record<string, Partial<InjectionConfig>> = {
  "redis-url.yaml": { redis: { url: "redis://redis.cache.svc:6379/2", failureMode: "deny" } },
  "redis-secret.yaml": { redis: { secret: { name: "mcp-warden-redis", key: "url" }, failureMode: "local" } },
};

function render(pod: Pod, file: string): string {
  const result = injectSidecar(pod, { ...config, ...configFor[file] });
  if (result.action === "inject") return `# injected\n${dump(result.pod, { lineWidth: -1, noRefs: true })}`;
  if (result.action === "skip") return `# skipped: ${result.reason}\n`;
  return `# refused\nmessage: ${JSON.stringify(result.message)}\n`;
}

const inputs = readdirSync(goldenDir).filter((file) => file.endsWith(".yaml") && !file.endsWith(".injected.yaml"));

describe("injectSidecar golden files", () => {
  it("has inputs", () => expect(inputs.length).toBeGreaterThan(5));

  for (const file of inputs) {
    it(file, () => {
      const pod = load(readFileSync(join(goldenDir, file), "utf8")) as Pod;
      const before = structuredClone(pod);
      const actual = render(pod, file);
      expect(pod).toEqual(before); // pure: the input is not touched
      const goldenFile = join(goldenDir, file.replace(/\.yaml$/, ".injected.yaml"));
      if (update || !existsSync(goldenFile)) writeFileSync(goldenFile, actual);
      expect(actual).toBe(readFileSync(goldenFile, "utf8"));
    });
  }
});

describe("injectSidecar", () => {
  const basic = load(readFileSync(join(goldenDir, "basic.yaml"), "utf8")) as Pod;

  it("is idempotent: an injected pod is left alone", () => {
    const once = injectSidecar(basic, config);
    expect(once.action).toBe("inject");
    const twice = injectSidecar((once as { pod: Pod }).pod, config);
    expect(twice).toEqual({ action: "skip", reason: "the pod already carries the sidecar" });
  });

  it("skips the namespace of the admission request even when the pod does not name one", () => {
    const pod = structuredClone(basic);
    delete pod.metadata?.namespace;
    expect(injectSidecar(pod, config, "mcp-warden-system").action).toBe("skip");
    expect(injectSidecar(pod, config, "agents").action).toBe("inject");
  });

  it("refuses an upstream port that names no container port, and one the sidecar needs", () => {
    const named = structuredClone(basic);
    named.metadata!.annotations!["mcpwarden.dev/upstream-port"] = "grpc";
    expect(injectSidecar(named, config)).toMatchObject({ action: "refuse", message: expect.stringContaining('"grpc"') });
    const taken = structuredClone(basic);
    taken.metadata!.annotations!["mcpwarden.dev/upstream-port"] = "9464";
    expect(injectSidecar(taken, config)).toMatchObject({ action: "refuse", message: expect.stringContaining("9464") });
  });

  it("takes resources from the config", () => {
    const result = injectSidecar(basic, { ...config, resources: { requests: { cpu: "5m" } } });
    const sidecar = (result as { pod: Pod }).pod.spec?.initContainers?.[0];
    expect(sidecar?.resources).toEqual({ requests: { cpu: "5m" } });
  });
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
  const basic = load(readFileSync(join(goldenDir, "basic.yaml"), "utf8")) as Pod;
  const redisUrl = "redis://:s3cret@redis.cache.svc:6379/1";
  const secrets: Record<string, Record<string, string>> = { "mcp-warden-redis": { url: redisUrl } };

  /** The container's environment as the kubelet resolves it, then its args expanded and parsed by `mcp-warden sidecar`. */
  async function startedSidecar(injection: InjectionConfig): Promise<{ config: SidecarConfig; specText: string }> {
    const result = injectSidecar(basic, injection);
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
});
