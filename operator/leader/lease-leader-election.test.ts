import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, type ClusterClient } from "../cluster.ts";
import { silentLogger } from "../operator-logger.ts";
import { InMemoryClusterClient } from "../testing/in-memory-cluster.ts";
import { LeaseLeaderElection } from "./lease-leader-election.ts";

/** A replica's view of the shared API server, which can be cut off (the replica "dies"). */
function replicaClient(shared: InMemoryClusterClient): { client: ClusterClient; cut: () => void } {
  let dead = false;
  const guard = <T>(call: () => Promise<T>): Promise<T> => (dead ? Promise.reject(new ApiError(503, "unreachable")) : call());
  const client: ClusterClient = {
    ...Object.fromEntries(Object.getOwnPropertyNames(Object.getPrototypeOf(shared)).map((name) => [name, (...args: unknown[]) => (shared as unknown as Record<string, (...a: unknown[]) => unknown>)[name]?.(...args)])),
    readLease: (namespace, name) => guard(() => shared.readLease(namespace, name)),
    createLease: (lease) => guard(() => shared.createLease(lease)),
    replaceLease: (lease) => guard(() => shared.replaceLease(lease)),
  } as ClusterClient;
  return { client, cut: () => (dead = true) };
}

function candidate(client: ClusterClient, identity: string, log: string[]) {
  return new LeaseLeaderElection({
    client,
    namespace: "mcp-warden-system",
    name: "mcp-warden-operator",
    identity,
    leaseDurationMs: 3000,
    renewDeadlineMs: 2000,
    retryPeriodMs: 500,
    onStartedLeading: () => log.push(`${identity} leads`),
    onStoppedLeading: () => log.push(`${identity} stops`),
    logger: silentLogger(),
  });
}

describe("LeaseLeaderElection", () => {
  afterEach(() => vi.useRealTimers());

  it("elects exactly one of two replicas", async () => {
    vi.useFakeTimers();
    const shared = new InMemoryClusterClient();
    const log: string[] = [];
    const a = candidate(replicaClient(shared).client, "a", log);
    const b = candidate(replicaClient(shared).client, "b", log);
    a.start();
    b.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
    expect(log).toHaveLength(1);
    expect(shared.leases.get("mcp-warden-system/mcp-warden-operator")?.spec?.holderIdentity).toBe(a.isLeader ? "a" : "b");
    await a.stop();
    await b.stop();
  });

  it("hands over at once when the leader stops and releases the Lease", async () => {
    vi.useFakeTimers();
    const shared = new InMemoryClusterClient();
    const log: string[] = [];
    const a = candidate(replicaClient(shared).client, "a", log);
    a.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(a.isLeader).toBe(true);
    const b = candidate(replicaClient(shared).client, "b", log);
    b.start();
    await vi.advanceTimersByTimeAsync(5000);
    expect(b.isLeader).toBe(false);
    await a.stop();
    await vi.advanceTimersByTimeAsync(600);
    expect(b.isLeader).toBe(true);
    expect(log).toEqual(["a leads", "a stops", "b leads"]);
    await b.stop();
  });

  it("takes over from a leader that died only after a whole lease duration, and the old leader steps down", async () => {
    vi.useFakeTimers();
    const shared = new InMemoryClusterClient();
    const log: string[] = [];
    const first = replicaClient(shared);
    const a = candidate(first.client, "a", log);
    a.start();
    await vi.advanceTimersByTimeAsync(100);
    const b = candidate(replicaClient(shared).client, "b", log);
    b.start();
    await vi.advanceTimersByTimeAsync(1000);
    first.cut(); // a can no longer renew
    await vi.advanceTimersByTimeAsync(2000);
    expect(b.isLeader).toBe(false); // 2 s < the 3 s lease
    await vi.advanceTimersByTimeAsync(2500);
    expect(b.isLeader).toBe(true);
    expect(a.isLeader).toBe(false);
    expect(log).toContain("a stops");
    expect(shared.leases.get("mcp-warden-system/mcp-warden-operator")?.spec?.leaseTransitions).toBe(1);
    await b.stop();
  });
});
