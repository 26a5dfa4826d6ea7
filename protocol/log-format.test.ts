import { describe, expect, it } from "vitest";
import type { DestinationStream } from "pino";
import { createOperatorLogger } from "../operator/operator-logger.ts";
import { createSidecarLogger } from "../sidecar/observability/sidecar-logger.ts";

function capture(): { destination: DestinationStream; lines: () => Record<string, unknown>[] } {
  const written: string[] = [];
  return { destination: { write: (text: string) => void written.push(text) }, lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe("one log format for the sidecar and the operator", () => {
  it("writes level labels, an ISO time, the app and the line's fields, in the same key order", () => {
    const sidecar = capture();
    const operator = capture();
    createSidecarLogger({ destination: sidecar.destination }).warn({ revision: "r1" }, "policy loaded");
    createOperatorLogger("info", operator.destination).child({ component: "stream" }).warn({ pod: "agents/a" }, "stream closed");
    const [sidecarLine] = sidecar.lines();
    const [operatorLine] = operator.lines();
    expect(sidecarLine).toEqual({ level: "warn", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), app: "mcp-warden-sidecar", revision: "r1", msg: "policy loaded" });
    expect(operatorLine).toEqual({ level: "warn", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), app: "mcp-warden-operator", component: "stream", pod: "agents/a", msg: "stream closed" });
    expect(Object.keys(sidecarLine as object).slice(0, 3)).toEqual(Object.keys(operatorLine as object).slice(0, 3));
  });

  it("redacts tokens in both", () => {
    const sidecar = capture();
    const operator = capture();
    createSidecarLogger({ destination: sidecar.destination }).info({ token: "s3cret" }, "x");
    createOperatorLogger("info", operator.destination).info({ headers: { authorization: "Bearer s3cret" } }, "x");
    expect(JSON.stringify([...sidecar.lines(), ...operator.lines()])).not.toContain("s3cret");
  });
});
