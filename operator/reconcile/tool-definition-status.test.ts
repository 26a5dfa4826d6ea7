import { describe, expect, it } from "vitest";
import { changedPins, MAX_SEEN_DIGESTS, MAX_STATUS_TOOLS, toolDefinitionsStatus } from "./tool-definition-status.ts";

const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, "0")}`;
const [A, B, C] = [digest(10), digest(11), digest(12)];

describe("toolDefinitionsStatus", () => {
  it("shows each tool's pin and what the pods see, changed first", () => {
    const status = toolDefinitionsStatus({ mode: "pin", pins: { list_runs: A, get_run: B, unseen: C } }, [
      new Map([
        ["list_runs", A],
        ["get_run", B],
        ["new_tool", C],
      ]),
      new Map([
        ["list_runs", B],
        ["get_run", B],
      ]),
    ]);
    expect(status).toEqual({
      tools: [
        { name: "list_runs", pinned: A, changed: true, seen: [{ digest: A, pods: 1 }, { digest: B, pods: 1 }] },
        { name: "new_tool", changed: true, seen: [{ digest: C, pods: 1 }] },
        { name: "get_run", pinned: B, changed: false, seen: [{ digest: B, pods: 2 }] },
        { name: "unseen", pinned: C, changed: false, seen: [] },
      ],
    });
    expect(changedPins(status)).toEqual([{ tool: "list_runs", pinned: A, digest: B, pods: 1 }]);
  });

  it("is bounded, counting what it leaves out", () => {
    const pods = Array.from({ length: MAX_SEEN_DIGESTS + 2 }, (_, index) => new Map([["busy", digest(index)]]));
    const many = new Map(Array.from({ length: MAX_STATUS_TOOLS + 5 }, (_, index) => [`tool-${String(index).padStart(3, "0")}`, A] as const));
    const status = toolDefinitionsStatus({}, [...pods, many]);
    expect(status.tools).toHaveLength(MAX_STATUS_TOOLS);
    expect(status.omittedTools).toBe(6);
    expect(status.tools[0]).toMatchObject({ name: "busy", omittedDigests: 2 });
    expect(status.tools[0]?.seen).toHaveLength(MAX_SEEN_DIGESTS);
  });
});
