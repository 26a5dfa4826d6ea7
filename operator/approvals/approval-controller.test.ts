import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { McpApprovalObject } from "../kube-objects.ts";
import { silentLogger } from "../operator-logger.ts";
import type { ApprovalEvent } from "../../protocol/index.ts";
import type { BoundPod } from "../stream/stream-authenticator.ts";
import { InMemoryClusterClient, InMemoryStore } from "../testing/in-memory-cluster.ts";
import { ApprovalController } from "./approval-controller.ts";
import { APPROVAL_POD_UID_LABEL } from "./approval-request.ts";

const NOW = Date.parse("2026-11-22T08:00:00Z");
const pod: BoundPod = { namespace: "team", name: "agent-0", uid: "uid-agent-0", serviceAccount: "agent" };

function ask(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    policy: "team/deploys",
    rule: 'tools["deploy"]',
    tool: "Deploy_Prod",
    argumentDigest: "d".repeat(64),
    preview: '{"target":"prod"}',
    caller: "alice",
    requestedAt: new Date(NOW).toISOString(),
    expiresAt: new Date(NOW + 60_000).toISOString(),
    ...overrides,
  };
}

function approval(name: string, podUid: string, extra: Partial<McpApprovalObject> = {}, expiresInMs = 60_000): McpApprovalObject {
  return {
    metadata: { name, namespace: "team", uid: `uid-${name}`, labels: { [APPROVAL_POD_UID_LABEL]: podUid } },
    spec: { pod: "agent-0", policy: "team/deploys", tool: "deploy", argumentDigest: "d".repeat(64), preview: "{}", caller: "alice", requestedAt: new Date(NOW).toISOString(), expiresAt: new Date(NOW + expiresInMs).toISOString() },
    ...extra,
  };
}

let store: InMemoryStore<McpApprovalObject>;
let client: InMemoryClusterClient;
let pushed: [string, ApprovalEvent][];
let leader: { isLeader: boolean };
let controller: ApprovalController;

beforeEach(() => {
  vi.useFakeTimers({ now: NOW });
  store = new InMemoryStore<McpApprovalObject>();
  client = new InMemoryClusterClient();
  pushed = [];
  leader = { isLeader: true };
  controller = new ApprovalController({ approvals: store, client, leader, push: (uid, event) => void pushed.push([uid, event]), decidedTtlMs: 10_000, maxPendingPerPod: 2, logger: silentLogger() });
});
afterEach(() => {
  controller.stop();
  vi.useRealTimers();
});

describe("ApprovalController.file", () => {
  it("creates the McpApproval in the pod's namespace, owned by the pod and labelled with its uid", async () => {
    const filed = await controller.file(pod, ask());
    expect(filed.status).toBe(201);
    const [created] = client.writesOf("approval-create");
    expect(created?.body).toMatchObject({
      metadata: {
        generateName: "deploy-prod-",
        namespace: "team",
        labels: { [APPROVAL_POD_UID_LABEL]: "uid-agent-0" },
        ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "agent-0", uid: "uid-agent-0" }],
      },
      spec: { pod: "agent-0", policy: "team/deploys", tool: "Deploy_Prod", caller: "alice" },
    });
    expect(filed.body).toEqual({ name: (created?.body as McpApprovalObject).metadata?.name, namespace: "team" });
  });

  it("refuses a bad ask with the field and the reason, and creates nothing", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [ask({ pod: "agent-1" }), "pod: unknown field"],
      [ask({ argumentDigest: "xyz" }), "argumentDigest: must match ^[0-9a-f]{64}$"],
      [ask({ tool: "" }), "tool: must not be empty"],
      [ask({ preview: "é".repeat(600) }), "preview: longer than 1024"],
      [ask({ expiresAt: "tomorrow" }), "expiresAt: must be an RFC 3339 time"],
      [ask({ expiresAt: new Date(NOW - 1).toISOString() }), "expiresAt: is already past"],
      [ask({ expiresAt: new Date(NOW + 25 * 3_600_000).toISOString() }), "expiresAt: more than 24 h ahead (the longest approval.timeout)"],
      [ask({ caller: 7 }), "caller: must be a string"],
    ];
    for (const [body, message] of cases) expect(await controller.file(pod, body)).toEqual({ status: 400, body: { error: message } });
    expect(await controller.file(pod, [1])).toEqual({ status: 400, body: { error: "the body must be a JSON object" } });
    expect(client.writesOf("approval-create")).toEqual([]);
  });

  it("refuses a pod more undecided approvals than the cap (429), counting only its own", async () => {
    store.put(approval("a", pod.uid));
    store.put(approval("b", pod.uid));
    store.put(approval("c", "uid-other"));
    expect((await controller.file(pod, ask())).status).toBe(429);
    store.put(approval("b", pod.uid, { spec: { ...approval("b", pod.uid).spec!, decision: { verdict: "deny", decidedBy: "bob" } } }));
    expect((await controller.file(pod, ask())).status).toBe(201);
  });
});

describe("ApprovalController verdicts", () => {
  it("pushes a decision once, to the pod that asked only, and the leader writes status with the decider", () => {
    store.put(approval("a", pod.uid));
    expect(client.writesOf("approval-status").map((w) => w.body)).toEqual([{ phase: "Pending" }]);
    const decided = approval("a", pod.uid, { spec: { ...approval("a", pod.uid).spec!, decision: { verdict: "approve", decidedBy: "bob", reason: "ok" } } });
    store.put(decided);
    store.put({ ...decided, status: { phase: "Approved", decidedBy: "bob", decidedAt: new Date(NOW).toISOString() } });
    expect(pushed).toEqual([[pod.uid, { name: "a", verdict: "approved", decidedBy: "bob", reason: "ok" }]]);
    expect(client.writesOf("approval-status").map((w) => w.body)).toEqual([{ phase: "Pending" }, { phase: "Approved", decidedBy: "bob", decidedAt: new Date(NOW).toISOString() }]);
    expect(controller.eventsFor(pod)).toEqual([{ name: "a", verdict: "approved", decidedBy: "bob", reason: "ok" }]);
    expect(controller.eventsFor({ ...pod, uid: "uid-other" })).toEqual([]);
    expect(controller.eventsFor({ ...pod, namespace: "elsewhere" })).toEqual([]);
  });

  it("pushes expired at expiresAt without waiting for a write, and the leader marks it Expired", () => {
    store.put(approval("a", pod.uid, {}, 5_000));
    vi.advanceTimersByTime(4_999);
    expect(pushed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(pushed).toEqual([[pod.uid, { name: "a", verdict: "expired" }]]);
    expect(client.writesOf("approval-status").at(-1)?.body).toMatchObject({ phase: "Expired" });
  });

  it("a final status phase stands: a decision that shows up after Expired changes nothing", () => {
    const expired = approval("a", pod.uid, { status: { phase: "Expired", decidedAt: new Date(NOW).toISOString() } });
    store.put(expired);
    store.put({ ...expired, spec: { ...expired.spec!, decision: { verdict: "approve", decidedBy: "bob" } } });
    expect(pushed).toEqual([[pod.uid, { name: "a", verdict: "expired" }]]);
    expect(client.writesOf("approval-status")).toEqual([]);
  });

  it("a non-leader pushes but never writes or deletes", () => {
    leader.isLeader = false;
    store.put(approval("a", pod.uid, { spec: { ...approval("a", pod.uid).spec!, decision: { verdict: "deny", decidedBy: "bob" } } }));
    vi.advanceTimersByTime(60_000);
    expect(pushed).toHaveLength(1);
    expect(client.writes).toEqual([]);
  });

  it("the leader deletes a settled approval after the TTL, by uid, and retries a failed write", async () => {
    client.failNext["approval-status"] = 1;
    const settled = approval("a", pod.uid, { status: { phase: "Denied", decidedBy: "bob", decidedAt: new Date(NOW).toISOString() }, spec: { ...approval("a", pod.uid).spec!, decision: { verdict: "deny", decidedBy: "bob" } } });
    store.put(settled);
    vi.advanceTimersByTime(9_999);
    expect(client.writesOf("approval-delete")).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(client.writesOf("approval-delete")).toEqual([{ kind: "approval-delete", target: "team/a", body: { uid: "uid-a" } }]);

    store.put(approval("b", pod.uid));
    expect(client.writesOf("approval-status").filter((w) => w.target === "team/b")).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(client.writesOf("approval-status").filter((w) => w.target === "team/b").map((w) => w.body)).toEqual([{ phase: "Pending" }]);
  });
});
