// The McpApproval CRD against the real kube-apiserver: it installs, `kubectl get mcpa`
// reads well, what is asked cannot change, and a decision is made once (CEL, so this
// holds even without the admission webhooks).
import { beforeAll, describe, expect, it } from "vitest";
import { applyCrds, createNamespace, kubectl, kubectlOk } from "../harness/index.ts";

let namespace: string;

beforeAll(async () => {
  await applyCrds();
  namespace = await createNamespace("approvals-crd");
});

const approval = (name: string, spec: Record<string, unknown> = {}): string =>
  JSON.stringify({
    apiVersion: "mcpwarden.dev/v1alpha1",
    kind: "McpApproval",
    metadata: { name, namespace },
    spec: {
      pod: "agent-7d9f",
      policy: `${namespace}/deploys`,
      rule: 'tools["deploy"]',
      tool: "deploy",
      argumentDigest: "a".repeat(64),
      preview: '{"target":"prod","apiKey":"***"}',
      caller: "alice",
      requestedAt: "2026-11-22T06:00:00Z",
      expiresAt: "2026-11-22T06:10:00Z",
      ...spec,
    },
  });

const patch = (name: string, body: object): Promise<{ code: number; stderr: string }> =>
  kubectl(["patch", "mcpapproval", name, "--type=merge", "-p", JSON.stringify(body)], { namespace });

describe("McpApproval CRD", () => {
  it("is listed by its short name with the columns a person decides by", async () => {
    await kubectlOk(["create", "-f", "-"], { input: approval("deploy-1") });
    await kubectlOk(["patch", "mcpapproval", "deploy-1", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { phase: "Pending" } })], { namespace });
    const table = await kubectlOk(["get", "mcpa"], { namespace });
    expect(table).toMatch(/^NAME\s+PHASE\s+TOOL\s+CALLER\s+POD\s+DECIDED-BY\s+EXPIRES\s+AGE$/m);
    expect(table).toMatch(/^deploy-1\s+Pending\s+deploy\s+alice\s+agent-7d9f\s+2026-11-22T06:10:00Z\s+\d+s$/m);
    const wide = await kubectlOk(["get", "mcpwarden", "-o", "wide"], { namespace });
    expect(wide).toContain(`${namespace}/deploys`);
    expect(wide).toContain('{"target":"prod","apiKey":"***"}');
  });

  it("refuses a bad digest, verdict or oversized preview, naming the field", async () => {
    const bad = await kubectl(["create", "-f", "-"], { input: approval("bad-1", { argumentDigest: "xyz", preview: "x".repeat(1025) }) });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("spec.argumentDigest");
    expect(bad.stderr).toContain("spec.preview");
    await kubectlOk(["create", "-f", "-"], { input: approval("bad-2") });
    const verdict = await patch("bad-2", { spec: { decision: { verdict: "maybe" } } });
    expect(verdict.stderr).toContain('spec.decision.verdict: Unsupported value: "maybe"');
  });

  it("keeps what is asked immutable and takes one decision", async () => {
    await kubectlOk(["create", "-f", "-"], { input: approval("deploy-2") });
    const changed = await patch("deploy-2", { spec: { tool: "delete_all" } });
    expect(changed.stderr).toContain("what an approval asks cannot change");
    expect((await patch("deploy-2", { spec: { decision: { verdict: "approve" } } })).code).toBe(0);
    const second = await patch("deploy-2", { spec: { decision: { verdict: "deny" } } });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain("the approval was already decided");
    const removed = await patch("deploy-2", { spec: { decision: null } });
    expect(removed.stderr).toContain("the approval was already decided");
  });
});
