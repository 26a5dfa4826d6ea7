import { describe, expect, it } from "vitest";
import type { ClusterClient } from "../cluster.ts";
import { podObject } from "../testing/objects.ts";
import { PodAnnotationAcks } from "./ack-recorder.ts";

const pod = { namespace: "agents", name: "a", uid: "uid-a", serviceAccount: "default" };

function slowClient(delays: number[]) {
  const written: string[] = [];
  const client = {
    annotatePod: async (_namespace: string, _name: string, _uid: string, annotations: Record<string, string>) => {
      await new Promise((resolve) => setTimeout(resolve, delays.shift() ?? 0));
      written.push(annotations["mcpwarden.dev/applied-revision"] as string);
    },
  } as unknown as ClusterClient;
  return { client, written };
}

describe("PodAnnotationAcks", () => {
  it("writes a pod's acks in order, so a slow older write never lands last", async () => {
    const { client, written } = slowClient([50, 0]);
    const acks = new PodAnnotationAcks(client, () => undefined);
    await Promise.all([acks.record(pod, "aaaa"), acks.record(pod, "bbbb")]);
    expect(written.at(-1)).toBe("bbbb");
  });

  it("coalesces a burst and skips what the cache already says", async () => {
    const { client, written } = slowClient([20]);
    const cached = podObject("agents", "a", {}, { uid: "uid-a", applied: "cccc" });
    const acks = new PodAnnotationAcks(client, () => cached);
    await acks.record(pod, "cccc");
    expect(written).toEqual([]);
    await Promise.all([acks.record(pod, "dddd"), acks.record(pod, "dddd"), acks.record(pod, "dddd")]);
    expect(written).toEqual(["dddd"]);
  });
});
