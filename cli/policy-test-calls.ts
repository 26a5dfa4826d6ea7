// The calls file of `mcp-warden policy test`: JSON Lines, one call each, optionally with
// what the call must get. Every problem names the line and the field.
import { DECISION_KINDS, toolDefinitionDigest, type DecisionKind, type ToolCall } from "../policy/index.ts";

/** What a call must get: any of these fields, compared exactly with the decision. */
export interface Expectation {
  decision?: DecisionKind;
  policy?: string;
  rule?: string;
  reason?: string;
  retryAfterSeconds?: number;
}

export interface TestCall {
  /** 1-based line in the calls file. */
  line: number;
  call: ToolCall;
  atMs: number;
  expect?: Expectation;
}

export type CallsResult = { ok: true; calls: TestCall[] } | { ok: false; problems: string[] };

const CALL_KEYS = ["tool", "arguments", "identity", "session", "at", "listed", "expect"];
const EXPECT_KEYS = ["decision", "policy", "rule", "reason", "retryAfterSeconds"] as const;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * One call per line. `identity` and `session` are ids ("alice") or objects ({"id",
 * "claims"}); both default to "". `at` (ISO 8601 with a zone) defaults to the previous
 * call's time (the first call: 1970-01-01T00:00:00Z) and may not go back in time.
 * `listed`: the tool object as the server last listed it (what pins and
 * validateServerSchema judge by); absent, no listing has named the tool.
 */
export function readCalls(file: string, text: string): CallsResult {
  const calls: TestCall[] = [];
  const problems: string[] = [];
  let previousMs = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const where = `${file}:${index + 1}`;
    if (raw.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      problems.push(`${where}: not JSON: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const parsed = readCall(value, previousMs);
    if (typeof parsed === "string") {
      problems.push(`${where}: ${parsed}`);
      return;
    }
    previousMs = parsed.atMs;
    calls.push({ line: index + 1, ...parsed });
  });
  if (problems.length === 0 && calls.length === 0) problems.push(`${file}: holds no calls`);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, calls };
}

function readCall(value: unknown, previousMs: number): Omit<TestCall, "line"> | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return 'a call must be an object {"tool", "arguments", "identity", "session", "at", "listed", "expect"}';
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !CALL_KEYS.includes(key));
  if (unknown.length > 0) return `unknown field ${JSON.stringify(unknown[0])} (allowed: ${CALL_KEYS.join(", ")})`;
  const tool = record["tool"];
  if (typeof tool !== "string") return "tool: must be a string";
  const identity = readParty(record["identity"], "identity", true);
  if (typeof identity === "string") return identity;
  const session = readParty(record["session"], "session", false);
  if (typeof session === "string") return session;
  let atMs = previousMs;
  if (record["at"] !== undefined) {
    const at = record["at"];
    if (typeof at !== "string" || !ISO_TIME.test(at) || Number.isNaN(Date.parse(at))) {
      return `at: ${JSON.stringify(at)} is not an ISO 8601 time with a zone (e.g. 2026-01-01T10:00:00Z)`;
    }
    atMs = Date.parse(at);
    if (atMs < previousMs) return `at: ${at} is earlier than the previous call; calls must be in time order`;
  }
  const expectation = record["expect"] === undefined ? undefined : readExpectation(record["expect"]);
  if (typeof expectation === "string") return expectation;
  const listed = record["listed"];
  if (listed !== undefined && (typeof listed !== "object" || listed === null || Array.isArray(listed) || (listed as Record<string, unknown>)["name"] !== tool)) {
    return `listed: must be the tool object as the server lists it, with "name": ${JSON.stringify(tool)}`;
  }
  const call: ToolCall = {
    tool,
    identity: identity.claims === undefined ? { id: identity.id } : identity,
    session: { id: session.id },
    ...(listed === undefined ? {} : { listed: listedTool(listed as Record<string, unknown>) }),
  };
  return {
    call: record["arguments"] === undefined ? call : { ...call, arguments: record["arguments"] },
    atMs,
    ...(expectation === undefined ? {} : { expect: expectation }),
  };
}

/** The tool as a calls file says it was listed; its schema is compiled by the table's engine when a policy asks. */
function listedTool(tool: Record<string, unknown>): NonNullable<ToolCall["listed"]> {
  let compiled: ReturnType<NonNullable<ToolCall["listed"]>["inputSchema"]> | undefined;
  return {
    digest: toolDefinitionDigest(tool),
    inputSchema: (engine) => (compiled ??= engine?.compileServerSchema(tool["inputSchema"]) ?? { ok: false, message: "the JSON Schema engine is not loaded" }),
  };
}

function readExpectation(value: unknown): Expectation | string {
  const shape = `{${EXPECT_KEYS.map((key) => `"${key}"`).join(", ")}}`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return `expect: must be an object ${shape}`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  const unknown = keys.find((key) => !(EXPECT_KEYS as readonly string[]).includes(key));
  if (unknown !== undefined) return `expect: unknown field ${JSON.stringify(unknown)} (allowed: ${EXPECT_KEYS.join(", ")})`;
  if (keys.length === 0) return `expect: names nothing to check; give at least one of ${EXPECT_KEYS.join(", ")}`;
  const decision = record["decision"];
  if (decision !== undefined && !(DECISION_KINDS as readonly unknown[]).includes(decision)) {
    return `expect.decision: ${JSON.stringify(decision)} is not a decision (${DECISION_KINDS.join(", ")})`;
  }
  for (const key of ["policy", "rule", "reason"] as const) {
    if (record[key] !== undefined && typeof record[key] !== "string") return `expect.${key}: must be a string`;
  }
  const retry = record["retryAfterSeconds"];
  if (retry !== undefined && !(typeof retry === "number" && Number.isInteger(retry) && retry >= 1)) return "expect.retryAfterSeconds: must be a whole number of seconds from 1";
  return record as Expectation;
}

function readParty(value: unknown, field: string, claims: boolean): { id: string; claims?: Record<string, unknown> } | string {
  if (value === undefined) return { id: "" };
  if (typeof value === "string") return { id: value };
  const shape = claims ? '{"id", "claims"}' : '{"id"}';
  if (typeof value !== "object" || value === null || Array.isArray(value)) return `${field}: must be an id or ${shape}`;
  const record = value as Record<string, unknown>;
  const allowed = claims ? ["id", "claims"] : ["id"];
  if (Object.keys(record).some((key) => !allowed.includes(key)) || typeof record["id"] !== "string") return `${field}: must be an id or ${shape}`;
  const claimValue = record["claims"];
  if (claimValue === undefined) return { id: record["id"] };
  if (typeof claimValue !== "object" || claimValue === null || Array.isArray(claimValue)) return `${field}.claims: must be an object`;
  return { id: record["id"], claims: claimValue as Record<string, unknown> };
}
