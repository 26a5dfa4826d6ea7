import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ApprovalRequest, Decision } from "../../policy/index.ts";
import type { ApprovalDesk, ApprovalVerdict } from "./approval-desk.ts";
import { ApprovalGate, type ApprovalMetrics } from "./approval-gate.ts";
import { LocalApprovalDesk } from "./local-approval-desk.ts";

const approval = (now: number, timeoutMs = 60_000): ApprovalRequest => ({ policy: "agents/p", rule: 'tools["deploy"]', timeoutMs, expiresAtMs: now + timeoutMs });

function setUp(holdMs = 5_000) {
  const desk = new LocalApprovalDesk();
  const outcomes: string[] = [];
  let pending = 0;
  const metrics: ApprovalMetrics = {
    approvalRequested: () => void pending++,
    approvalFinished: (_tool, outcome) => {
      pending--;
      outcomes.push(outcome);
    },
  };
  const gate = new ApprovalGate({ desk, holdMs, metrics });
  const call = (args: unknown = { env: "prod" }, callerId = "alice") => ({ approval: approval(Date.now()), tool: "deploy", arguments: args, argumentDigest: JSON.stringify(args), callerId });
  const only = () => {
    const open = desk.list().filter((a) => a.phase === "Pending");
    expect(open).toHaveLength(1);
    return open[0]!;
  };
  return { desk, gate, call, outcomes, only, pending: () => pending };
}

/** A desk decided by hand, with no timers of its own. */
function manualDesk(): ApprovalDesk & { decide(name: string, verdict: ApprovalVerdict): void } {
  const waiting = new Map<string, (verdict: ApprovalVerdict) => void>();
  let filed = 0;
  return {
    file: async (ask) => `${ask.tool}-${++filed}`,
    verdict: (name, signal) =>
      new Promise((resolve) => {
        waiting.set(name, resolve);
        signal.addEventListener("abort", () => resolve(undefined), { once: true });
      }),
    decide: (name, verdict) => waiting.get(name)?.(verdict),
  };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("ApprovalGate", () => {
  it("lets an approved call through once, naming the decider", async () => {
    const { desk, gate, call, outcomes, only, pending } = setUp();
    const held = gate.hold(call());
    await vi.advanceTimersByTimeAsync(10);
    expect(pending()).toBe(1);
    const asked = only();
    expect(asked).toMatchObject({ tool: "deploy", callerId: "alice", preview: '{"env":"prod"}', phase: "Pending" });
    expect(desk.decide(asked.name, "approve", "bob")).toMatchObject({ ok: true });
    expect(await held).toMatchObject({ decision: "allow", reason: `approved by bob (approval ${asked.name})` });
    expect(outcomes).toEqual(["approved"]);
    expect(pending()).toBe(0);
    expect(desk.decide(asked.name, "deny", "carol")).toMatchObject({ ok: false, status: 409 });
  });

  it("refuses a denied call with the reason", async () => {
    const { desk, gate, call, outcomes, only } = setUp();
    const held = gate.hold(call());
    await vi.advanceTimersByTimeAsync(10);
    desk.decide(only().name, "deny", "bob", "not on a Friday");
    expect(await held).toMatchObject({ decision: "deny", policy: "agents/p", reason: expect.stringMatching(/was denied by bob: not on a Friday$/) });
    expect(outcomes).toEqual(["denied"]);
  });

  it("treats expiry as a deny, and refuses decisions after it", async () => {
    const { desk, gate, outcomes, only } = setUp(120_000);
    const held = gate.hold({ approval: approval(Date.now(), 1_000), tool: "deploy", arguments: {}, argumentDigest: "d", callerId: "alice" });
    await vi.advanceTimersByTimeAsync(10);
    const name = only().name;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await held).toMatchObject({ decision: "deny", reason: expect.stringContaining("expired without a decision") });
    expect(desk.decide(name, "approve", "bob")).toMatchObject({ ok: false, status: 409, message: expect.stringContaining("expired") });
    expect(outcomes).toEqual(["expired"]);
  });

  it("after the hold runs out, the identical retry joins the approval and passes once; a third call asks anew", async () => {
    const { desk, gate, call, outcomes, only } = setUp(1_000);
    const first = gate.hold(call());
    await vi.advanceTimersByTimeAsync(1_000);
    const name = only().name;
    expect(await first).toMatchObject({ decision: "approval_required", reason: expect.stringContaining(`approval ${name} is still pending`) });
    desk.decide(name, "approve", "bob");
    expect(await gate.hold(call())).toMatchObject({ decision: "allow" });
    const third = gate.hold(call());
    await vi.advanceTimersByTimeAsync(10);
    expect(only().name).not.toBe(name);
    await vi.advanceTimersByTimeAsync(1_000);
    await third;
    expect(outcomes).toEqual(["timed_out", "approved", "timed_out"]);
  });

  it("a retry with different arguments, or from another caller, needs its own approval", async () => {
    const { desk, gate, call } = setUp(1_000);
    const first = gate.hold(call({ env: "prod" }));
    await vi.advanceTimersByTimeAsync(1_000);
    await first;
    const name = desk.list()[0]!.name;
    desk.decide(name, "approve", "bob");
    const other = gate.hold(call({ env: "prod", force: true }));
    const stranger = gate.hold(call({ env: "prod" }, "mallory"));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await other).toMatchObject({ decision: "approval_required" });
    expect(await stranger).toMatchObject({ decision: "approval_required" });
    expect(desk.list().filter((a) => a.phase === "Pending")).toHaveLength(2);
  });

  it("two identical retries waiting on one approval: only one goes through", async () => {
    const { desk, gate, call } = setUp(1_000);
    const first = gate.hold(call());
    await vi.advanceTimersByTimeAsync(1_000);
    await first;
    const retries = [gate.hold(call()), gate.hold(call())];
    await vi.advanceTimersByTimeAsync(10);
    desk.decide(desk.list()[0]!.name, "approve", "bob");
    const decisions = (await Promise.all(retries)).map((d) => d.decision).sort();
    expect(decisions).toEqual(["allow", "deny"]);
  });

  it("tells the listener it still waits: at once, then every interval, until the verdict; no timer outlives the hold", async () => {
    const desk = manualDesk();
    const gate = new ApprovalGate({ desk, holdMs: 60_000, progressIntervalMs: 1_000 });
    const told: [string, number][] = [];
    const held = gate.hold({ approval: approval(Date.now()), tool: "deploy", arguments: {}, argumentDigest: "d", callerId: "alice" }, (name, pendingMs) => {
      told.push([name, pendingMs]);
      return true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(told).toEqual([["deploy-1", 0]]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(told.map(([, pendingMs]) => pendingMs)).toEqual([0, 1_000, 2_000]);
    desk.decide("deploy-1", { phase: "Denied" });
    expect(await held).toMatchObject({ decision: "deny" });
    expect(vi.getTimerCount()).toBe(0);
    expect(told).toHaveLength(3);
  });

  it("stops telling a listener that returns false or throws (the client left); the hold goes on", async () => {
    const desk = manualDesk();
    const gate = new ApprovalGate({ desk, holdMs: 60_000, progressIntervalMs: 1_000 });
    let calls = 0;
    let throws = 0;
    const call = (digest: string) => ({ approval: approval(Date.now()), tool: "deploy", arguments: {}, argumentDigest: digest, callerId: "alice" });
    const left = gate.hold(call("a"), () => ++calls < 2);
    const broken = gate.hold(call("b"), () => {
      throws++;
      throw new Error("listener broke");
    });
    await vi.advanceTimersByTimeAsync(5_000);
    expect([calls, throws]).toEqual([2, 1]);
    // Only the holds' own timers are left.
    expect(vi.getTimerCount()).toBe(2);
    desk.decide("deploy-1", { phase: "Approved" });
    desk.decide("deploy-2", { phase: "Approved" });
    expect((await Promise.all([left, broken])).map((d) => d.decision)).toEqual(["allow", "allow"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("tells a retry that joins an earlier approval how long that approval has been pending", async () => {
    const { desk, gate, call } = setUp(1_000);
    const first = gate.hold(call());
    await vi.advanceTimersByTimeAsync(1_000);
    await first;
    const told: number[] = [];
    const retry = gate.hold(call(), (_name, pendingMs) => told.push(pendingMs) > 0);
    await vi.advanceTimersByTimeAsync(10);
    expect(told[0]).toBeGreaterThanOrEqual(1_000);
    desk.decide(desk.list()[0]!.name, "approve", "bob");
    expect(await retry).toMatchObject({ decision: "allow" });
  });

  it("a client that leaves ends the hold at once: refused, remembered for the identical retry, not used; no timer or listener is left", async () => {
    const desk = manualDesk();
    const outcomes: string[] = [];
    const gate = new ApprovalGate({ desk, holdMs: 60_000, progressIntervalMs: 1_000, metrics: { approvalRequested: () => undefined, approvalFinished: (_tool, outcome) => void outcomes.push(outcome) } });
    const call = () => ({ approval: approval(Date.now()), tool: "deploy", arguments: {}, argumentDigest: "d", callerId: "alice" });
    const clientGone = new AbortController();
    let told = 0;
    let decision: Decision | undefined;
    void gate.hold(call(), () => ++told > 0, clientGone.signal).then((held) => (decision = held));
    await vi.advanceTimersByTimeAsync(0);
    expect([told, decision]).toEqual([1, undefined]);
    clientGone.abort();
    // No timer needs to fire: the hold ends on the abort itself.
    await vi.advanceTimersByTimeAsync(0);
    expect(decision).toMatchObject({ decision: "approval_required", reason: expect.stringMatching(/^the client left while approval deploy-1 was pending, so the call was not made; once a person approves it, the same call/) });
    expect(outcomes).toEqual(["timed_out"]);
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(clientGone.signal, "abort")).toHaveLength(0);
    expect(told).toBe(1);
    // The identical retry joins deploy-1 (nothing new is filed) and, approved, passes once.
    const retry = gate.hold(call());
    await vi.advanceTimersByTimeAsync(0);
    desk.decide("deploy-1", { phase: "Approved", decidedBy: "bob" });
    expect(await retry).toMatchObject({ decision: "allow", reason: "approved by bob (approval deploy-1)" });
    expect(outcomes).toEqual(["timed_out", "approved"]);
  });

  it("a client already gone, or gone as the verdict comes: the call is refused and the approval stays for the retry", async () => {
    const { desk, gate, call, outcomes, only } = setUp();
    const gone = AbortSignal.abort();
    expect(await gate.hold(call(), undefined, gone)).toMatchObject({ decision: "approval_required", reason: expect.stringContaining("the client left") });
    const name = only().name;
    const leaving = new AbortController();
    const retry = gate.hold(call(), undefined, leaving.signal);
    await vi.advanceTimersByTimeAsync(10);
    desk.decide(name, "approve", "bob");
    leaving.abort();
    expect(await retry).toMatchObject({ decision: "approval_required", reason: expect.stringContaining(`the client left while approval ${name}`) });
    expect(await gate.hold(call())).toMatchObject({ decision: "allow", reason: `approved by bob (approval ${name})` });
    expect(outcomes).toEqual(["timed_out", "timed_out", "approved"]);
  });

  it("refuses when the approval cannot be filed (fail closed)", async () => {
    const gate = new ApprovalGate({ desk: { file: () => Promise.reject(new Error("operator unreachable")), verdict: () => Promise.resolve(undefined) } });
    expect(await gate.hold({ approval: approval(Date.now()), tool: "deploy", arguments: {}, argumentDigest: "d", callerId: "a" })).toMatchObject({
      decision: "deny",
      reason: expect.stringContaining("operator unreachable"),
    });
  });
});

describe("LocalApprovalDesk", () => {
  it("forgets decided approvals after the TTL", async () => {
    const desk = new LocalApprovalDesk({ decidedTtlMs: 5_000 });
    const name = await desk.file({ policy: "p", rule: "r", tool: "Deploy Prod!", argumentDigest: "d", preview: "{}", callerId: "a", requestedAtMs: Date.now(), expiresAtMs: Date.now() + 60_000 });
    expect(name).toMatch(/^deploy-prod-[0-9a-f]{8}$/);
    desk.decide(name, "approve", "bob");
    await vi.advanceTimersByTimeAsync(4_000);
    expect(desk.get(name)?.phase).toBe("Approved");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(desk.get(name)).toBeUndefined();
    expect(desk.decide(name, "deny", "bob")).toMatchObject({ ok: false, status: 404 });
  });
});
