// The operator's ClusterRole is one file, charts/mcp-warden/files/operator-clusterrole.yaml,
// which the chart includes as is. It stays minimal (no wildcard, no Secret, pod verbs only
// get/list/watch/patch), and the operator does its whole job under exactly that role: a
// user bound to it and to nothing else, checked by the API server itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { load } from "js-yaml";
import { createNamespace, kubectl } from "../harness/index.ts";
import {
  CLUSTER_ROLE_FILE,
  api,
  applyPolicy,
  conditionOf,
  connectStream,
  createPod,
  createServiceAccount,
  eventually,
  operatorEnvironment,
  podManifest,
  podToken,
  postAck,
  readLog,
  readPolicy,
  setPodRunning,
  startOperator,
  type OperatorEnvironment,
  type OperatorProcess,
} from "./operator-fixture.ts";

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

const role = load(readFileSync(CLUSTER_ROLE_FILE, "utf8")) as { kind: string; metadata: { name: string }; rules: Rule[] };

describe("the operator's ClusterRole file", () => {
  it("is one ClusterRole with rules", () => {
    expect(role.kind).toBe("ClusterRole");
    expect(role.rules.length).toBeGreaterThan(0);
  });

  it("contains no wildcard anywhere", () => {
    expect(readFileSync(CLUSTER_ROLE_FILE, "utf8").replace(/#.*$/gm, "")).not.toContain("*");
    for (const rule of role.rules) {
      for (const value of [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...(rule.verbs ?? []), ...(rule.resourceNames ?? [])]) expect(value).not.toContain("*");
    }
  });

  it("grants no Secret access, no non-resource URLs, no escalation", () => {
    for (const rule of role.rules) {
      expect(rule.resources ?? []).not.toContain("secrets");
      expect(rule.nonResourceURLs).toBeUndefined();
      for (const verb of ["escalate", "bind", "impersonate"]) expect(rule.verbs ?? []).not.toContain(verb);
    }
  });

  it("allows pods only get, list, watch and patch", () => {
    const podVerbs = role.rules.filter((rule) => (rule.apiGroups ?? []).includes("") && (rule.resources ?? []).some((r) => r === "pods" || r.startsWith("pods/"))).flatMap((rule) => rule.verbs ?? []);
    expect(new Set(podVerbs)).toEqual(new Set(["get", "list", "watch", "patch"]));
  });
});

let env: OperatorEnvironment;
let operator: OperatorProcess;

beforeAll(async () => {
  env = await operatorEnvironment("rbac");
  operator = await startOperator(env, { identity: "rbac-0" });
});

afterAll(async () => {
  await operator?.stop();
});

describe("the operator under exactly that role", () => {
  it("is what the API server grants the operator's user, and no more", async () => {
    const can = async (...args: string[]): Promise<string> => (await kubectl(["auth", "can-i", ...args, `--as=${env.user}`])).stdout.trim();
    expect(await can("list", "secrets", "--all-namespaces")).toBe("no");
    expect(await can("get", "secrets", "-n", env.namespace)).toBe("no");
    expect(await can("create", "pods", "-n", "default")).toBe("no");
    expect(await can("delete", "pods", "-n", "default")).toBe("no");
    expect(await can("update", "pods", "-n", "default")).toBe("no");
    expect(await can("patch", "pods", "-n", "default")).toBe("yes");
    expect(await can("update", "mcppolicies.mcpwarden.dev", "-n", "default")).toBe("no");
    expect(await can("patch", "mcppolicies.mcpwarden.dev", "--subresource=status", "-n", "default")).toBe("yes");
  });

  it("does its whole job with it: status, events, NetworkPolicies, token reviews, acks, the Lease", async () => {
    const namespace = await createNamespace("rbac-work");
    await createServiceAccount(namespace, "mcp-server");
    const labels = { app: "rbac" };
    await applyPolicy(namespace, "fenced", { selector: { matchLabels: labels }, networkPolicy: "enabled", tools: { list_runs: {} } });
    await applyPolicy(namespace, "broken", { selector: { matchLabels: labels }, tools: { run: { when: "((" } } });
    const created = await createPod(namespace, podManifest("server", { labels: { ...labels, "mcpwarden.dev/injected": "true" }, annotations: { "mcpwarden.dev/upstream-port": "8080" } }));
    await setPodRunning(namespace, "server", "127.0.0.1");
    const token = await podToken(namespace, "mcp-server", created.body.metadata);
    const stream = await connectStream(operator.streamUrl, token, env.caPem);
    await eventually("a bundle", async () => (stream.bundles().length > 0 ? true : undefined));
    expect(await postAck(operator.streamUrl, token, env.caPem, stream.bundles()[0]!.revision)).toBe(204);
    stream.close();

    await eventually("Programmed=True", async () => {
      const policy = await readPolicy(namespace, "fenced");
      return conditionOf(policy.status, "Programmed")?.status === "True" ? policy : undefined;
    });
    await eventually("Accepted=False", async () => (conditionOf((await readPolicy(namespace, "broken")).status, "Accepted")?.status === "False" ? true : undefined));
    await eventually("the NetworkPolicy", async () => ((await api("GET", `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies/mcpwarden-fenced`)).status === 200 ? true : undefined));
    await applyPolicy(namespace, "fenced", { selector: { matchLabels: labels }, networkPolicy: "disabled", tools: { list_runs: {} } });
    await eventually("the NetworkPolicy's removal", async () => ((await api("GET", `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies/mcpwarden-fenced`)).status === 404 ? true : undefined));
    const lease = await api<{ spec: { holderIdentity: string } }>("GET", `/apis/coordination.k8s.io/v1/namespaces/${env.namespace}/leases/mcp-warden-operator`);
    expect(lease.body.spec.holderIdentity).toBe("rbac-0");

    await operator.stop();
    const log = readLog(operator.process, 2000);
    expect(log).not.toMatch(/forbidden|HTTP 403/i);
    expect(log).toContain("released");
  });
});
