// Golden files: test/golden/inject/X.yaml → X.injected.yaml, the pod after injection
// (or, for a pod left alone or refused, what happened). Regenerate after a deliberate
// change with MCPWARDEN_UPDATE_GOLDEN=1 and review the diff. That the sidecar starts
// from what is injected is cli/injected-sidecar-flags.test.ts (the operator imports
// nothing from the sidecar).
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dump, load } from "js-yaml";
import type { Pod } from "../kube-objects.ts";
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
  "tracing.yaml": { tracingEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector.monitoring.svc:4318", OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" } },
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

  describe("a stdio server (mcpwarden.dev/upstream-transport: stdio)", () => {
    const stdio = load(readFileSync(join(goldenDir, "stdio.yaml"), "utf8")) as Pod;
    const refusal = (change: (pod: Pod) => void, injection: InjectionConfig = config): string => {
      const pod = structuredClone(stdio);
      change(pod);
      const result = injectSidecar(pod, injection);
      expect(result.action).toBe("refuse");
      return (result as { message: string }).message;
    };

    it("refuses an upstream-port beside it, an unknown or ambiguous container, and a command given twice", () => {
      expect(refusal((pod) => (pod.metadata!.annotations!["mcpwarden.dev/upstream-port"] = "8080"))).toContain("a stdio server has none; remove one of the two");
      expect(refusal((pod) => (pod.metadata!.annotations!["mcpwarden.dev/upstream-container"] = "mcp"))).toContain('mcpwarden.dev/upstream-container is "mcp", which is not one of the pod\'s containers (server)');
      expect(refusal((pod) => pod.spec!.containers!.push({ name: "shipper", image: "fluent-bit:3" }))).toContain("the pod has 2 containers; name the one that runs the stdio MCP server with mcpwarden.dev/upstream-container");
      expect(refusal((pod) => (pod.metadata!.annotations!["mcpwarden.dev/upstream-command"] = "mockloop-mcp --stdio"))).toContain("container server also has a command: give the command in one place");
      expect(
        refusal((pod) => {
          delete pod.spec!.containers![0]!["command"];
          delete pod.spec!.containers![0]!["args"];
          pod.metadata!.annotations!["mcpwarden.dev/upstream-command"] = "mockloop-mcp 'unterminated";
        }),
      ).toContain("mcpwarden.dev/upstream-command has an unterminated single quote");
      expect(refusal((pod) => (pod.metadata!.annotations!["mcpwarden.dev/forward-paths"] = "/api"))).toContain("a stdio server has none; remove the annotation");
    });

    it("gives its sidecar none of the operator's forwarded paths (they are for HTTP servers)", () => {
      const result = injectSidecar(stdio, { ...config, forwardPaths: ["/api"] });
      const args = ((result as { pod: Pod }).pod.spec?.initContainers?.[0]?.["args"] ?? []) as string[];
      expect(args).toContain("--upstream-socket=/var/run/mcp-warden/stdio/server.sock");
      expect(args.filter((arg) => arg.startsWith("--forward-path"))).toEqual([]);
    });
  });
});
