import { describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import type { DecisionRecord } from "../contracts.ts";
import { AuditLog } from "./audit-log.ts";
import { fanOutDecisions } from "./decision-fan-out.ts";
import { createSidecarLogger, type LogLevel } from "./sidecar-logger.ts";

function capture(level: LogLevel = "info"): { logger: ReturnType<typeof createSidecarLogger>; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const logger = createSidecarLogger({ level, destination: stream });
  return { logger, lines: () => text.split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const record: DecisionRecord = {
  tool: "run_test_iteration",
  decision: { decision: "rate_limited", policy: "demo", rule: 'tools["run_test_iteration"].limits[0]', reason: "rate limit reached", retryAfterSeconds: 42 },
  mode: "enforce",
  callerId: "agent-7",
  argumentDigest: "ab".repeat(32),
  arguments: { password: "hunter2", iterations: 3 },
  rateLimitCounter: "runs",
};

describe("AuditLog", () => {
  it("writes one JSON line per decision without argument values", () => {
    const { logger, lines } = capture();
    new AuditLog(logger).onDecision(record);
    const [line, ...rest] = lines();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      level: "info",
      msg: "tool call",
      audit: "decision",
      tool: "run_test_iteration",
      decision: "rate_limited",
      mode: "enforce",
      policy: "demo",
      rule: 'tools["run_test_iteration"].limits[0]',
      caller: "agent-7",
      argumentDigest: "ab".repeat(32),
      retryAfterSeconds: 42,
      rateLimitCounter: "runs",
    });
    expect(JSON.stringify(line)).not.toContain("hunter2");
  });

  it("includes arguments only with --log-arguments", () => {
    const { logger, lines } = capture();
    new AuditLog(logger, { logArguments: true }).onDecision(record);
    expect(lines()[0]).toMatchObject({ arguments: { iterations: 3 } });
  });

  it("writes audit lines when the logs are quieter than info, not when silent", () => {
    const quiet = capture("warn");
    new AuditLog(quiet.logger).onDecision(record);
    quiet.logger.info("ordinary info line");
    expect(quiet.lines().map((l) => l["msg"])).toEqual(["tool call"]);
    const silent = capture("silent");
    new AuditLog(silent.logger).onDecision(record);
    expect(silent.lines()).toEqual([]);
  });

  it("the logger redacts tokens wherever a line would carry them", () => {
    const { logger, lines } = capture();
    logger.info({ headers: { authorization: "Bearer eyJsecret" }, token: "t0ken" }, "oops");
    expect(JSON.stringify(lines())).not.toMatch(/eyJsecret|t0ken/);
  });

  it("a throwing observer neither stops the others nor escapes", () => {
    const seen: string[] = [];
    const errors: unknown[] = [];
    const observer = fanOutDecisions(
      [{ onDecision: () => { throw new Error("boom"); } }, { onDecision: (r) => seen.push(r.tool) }],
      (error) => errors.push(error),
    );
    observer.onDecision(record);
    expect(seen).toEqual(["run_test_iteration"]);
    expect(errors).toHaveLength(1);
  });
});
