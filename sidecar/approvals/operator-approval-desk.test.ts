import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ApprovalAsk } from "./approval-desk.ts";
import { OperatorApprovalDesk, type OperatorPost } from "./operator-approval-desk.ts";

const NOW = Date.parse("2026-11-22T08:00:00Z");
const ask: ApprovalAsk = {
  policy: "team/deploys",
  rule: 'tools["deploy"]',
  tool: "deploy",
  argumentDigest: "d".repeat(64),
  preview: "{}",
  callerId: "alice",
  requestedAtMs: NOW,
  expiresAtMs: NOW + 30_000,
};

let posted: [string, unknown][];
const answering =
  (status: number, body: unknown): OperatorPost =>
  async (path, sent) => {
    posted.push([path, sent]);
    return { status, text: typeof body === "string" ? body : JSON.stringify(body) };
  };
const never = (): AbortSignal => new AbortController().signal;

beforeEach(() => {
  vi.useFakeTimers({ now: NOW });
  posted = [];
});
afterEach(() => vi.useRealTimers());

describe("OperatorApprovalDesk", () => {
  it("asks the operator with the McpApproval's fields and waits for the verdict event", async () => {
    const desk = new OperatorApprovalDesk({ post: answering(201, { name: "deploy-x7k2p", namespace: "team" }) });
    const name = await desk.file(ask);
    expect(name).toBe("deploy-x7k2p");
    expect(posted).toEqual([
      [
        "/v1/approvals",
        { policy: "team/deploys", rule: 'tools["deploy"]', tool: "deploy", argumentDigest: "d".repeat(64), preview: "{}", caller: "alice", requestedAt: "2026-11-22T08:00:00.000Z", expiresAt: "2026-11-22T08:00:30.000Z" },
      ],
    ]);
    const waiting = desk.verdict(name, never());
    expect(desk.receive({ name, verdict: "approved", decidedBy: "bob" })).toBe(true);
    expect(await waiting).toEqual({ phase: "Approved", decidedBy: "bob", decidedAtMs: NOW });
  });

  it("keeps the first verdict, remembers it for a later retry, and ignores approvals it did not file", async () => {
    const desk = new OperatorApprovalDesk({ post: answering(201, { name: "deploy-1" }) });
    await desk.file(ask);
    expect(desk.receive({ name: "someone-elses", verdict: "approved" })).toBe(false);
    desk.receive({ name: "deploy-1", verdict: "denied", reason: "freeze" });
    desk.receive({ name: "deploy-1", verdict: "approved" });
    expect(await desk.verdict("deploy-1", never())).toMatchObject({ phase: "Denied", reason: "freeze" });
    expect(await desk.verdict("someone-elses", never())).toMatchObject({ phase: "Expired" });
  });

  it("reads a verdict it does not know as expiry, and ignores an event without a name", async () => {
    const desk = new OperatorApprovalDesk({ post: answering(201, { name: "deploy-1" }) });
    await desk.file(ask);
    expect(desk.receive({ verdict: "approved" })).toBe(false);
    expect(desk.receive({ name: "deploy-1", verdict: "Approved" })).toBe(true);
    expect(await desk.verdict("deploy-1", never())).toMatchObject({ phase: "Expired" });
  });

  it("expires on its own at expiresAt, whether or not the operator says so", async () => {
    const desk = new OperatorApprovalDesk({ post: answering(201, { name: "deploy-1" }) });
    await desk.file(ask);
    const waiting = desk.verdict("deploy-1", never());
    vi.advanceTimersByTime(30_000);
    expect(await waiting).toMatchObject({ phase: "Expired" });
  });

  it("an aborted wait resolves undefined; the verdict still arrives for the next wait", async () => {
    const desk = new OperatorApprovalDesk({ post: answering(201, { name: "deploy-1" }) });
    await desk.file(ask);
    const controller = new AbortController();
    const waiting = desk.verdict("deploy-1", controller.signal);
    controller.abort();
    expect(await waiting).toBeUndefined();
    desk.receive({ name: "deploy-1", verdict: "approved" });
    expect(await desk.verdict("deploy-1", never())).toMatchObject({ phase: "Approved" });
  });

  it("refuses to file when the operator refuses, answers nonsense or cannot be reached", async () => {
    await expect(new OperatorApprovalDesk({ post: answering(400, { error: "pod: unknown field" }) }).file(ask)).rejects.toThrow("the operator answered HTTP 400: pod: unknown field");
    await expect(new OperatorApprovalDesk({ post: answering(501, "not here") }).file(ask)).rejects.toThrow("HTTP 501: not here");
    await expect(new OperatorApprovalDesk({ post: answering(201, { name: "../etc" }) }).file(ask)).rejects.toThrow("named no approval");
    const unreachable: OperatorPost = () => Promise.reject(new Error("connect ECONNREFUSED"));
    await expect(new OperatorApprovalDesk({ post: unreachable }).file(ask)).rejects.toThrow("the operator could not be reached: connect ECONNREFUSED");
  });

  it("close tells waiting calls their approval expired", async () => {
    const desk = new OperatorApprovalDesk({ post: answering(201, { name: "deploy-1" }) });
    await desk.file(ask);
    const waiting = desk.verdict("deploy-1", never());
    desk.close();
    expect(await waiting).toEqual({ phase: "Expired", reason: "the sidecar is stopping" });
  });
});
