import { describe, expect, it } from "vitest";
import { silentLogger } from "../operator-logger.ts";
import { InMemoryClusterClient } from "../testing/in-memory-cluster.ts";
import { podObject } from "../testing/objects.ts";
import { TokenReviewAuthenticator } from "./stream-authenticator.ts";

function setUp(verifyPeerAddress = true) {
  const client = new InMemoryClusterClient();
  const pod = podObject("agents", "a", { app: "x" }, { ip: "10.1.2.3", uid: "uid-a" });
  client.pods.set("agents/a", pod);
  client.reviews.set("good", {
    authenticated: true,
    username: "system:serviceaccount:agents:mockloop",
    audiences: ["mcpwarden.dev"],
    extra: { "authentication.kubernetes.io/pod-name": ["a"], "authentication.kubernetes.io/pod-uid": ["uid-a"] },
  });
  client.reviews.set("stale-uid", {
    authenticated: true,
    username: "system:serviceaccount:agents:mockloop",
    extra: { "authentication.kubernetes.io/pod-name": ["a"], "authentication.kubernetes.io/pod-uid": ["uid-old"] },
  });
  client.reviews.set("unbound", { authenticated: true, username: "system:serviceaccount:agents:mockloop" });
  const authenticator = new TokenReviewAuthenticator({ client, cachedPod: () => undefined, verifyPeerAddress, logger: silentLogger() });
  return { client, authenticator };
}

describe("TokenReviewAuthenticator", () => {
  it("accepts a pod-bound token from the pod's own address (IPv4-mapped too)", async () => {
    const { authenticator } = setUp();
    expect(await authenticator.authenticate("good", "10.1.2.3")).toMatchObject({ ok: true, pod: { namespace: "agents", name: "a", uid: "uid-a", serviceAccount: "mockloop" } });
    expect(await authenticator.authenticate("good", "::ffff:10.1.2.3")).toMatchObject({ ok: true });
  });

  it("refuses the token from another address, unless told not to check", async () => {
    expect(await setUp().authenticator.authenticate("good", "10.9.9.9")).toMatchObject({ ok: false, status: 403, message: expect.stringContaining("10.9.9.9") });
    expect(await setUp(false).authenticator.authenticate("good", "10.9.9.9")).toMatchObject({ ok: true });
  });

  it("refuses tokens that are rejected, not bound to a pod, or bound to a pod that was replaced", async () => {
    const { authenticator } = setUp();
    expect(await authenticator.authenticate("nonsense", "10.1.2.3")).toMatchObject({ ok: false, status: 401 });
    expect(await authenticator.authenticate("unbound", "10.1.2.3")).toMatchObject({ ok: false, status: 401 });
    expect(await authenticator.authenticate("stale-uid", "10.1.2.3")).toMatchObject({ ok: false, status: 403 });
  });

  it("reuses a TokenReview for a while but checks the pod every time", async () => {
    const { authenticator, client } = setUp();
    await authenticator.authenticate("good", "10.1.2.3");
    await authenticator.authenticate("good", "10.1.2.3");
    expect(client.reviewCalls).toBe(1);
    client.pods.delete("agents/a");
    expect(await authenticator.authenticate("good", "10.1.2.3")).toMatchObject({ ok: false, status: 403 });
  });
});
