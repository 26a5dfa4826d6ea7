// The admin API's approvals (standalone mode): list them and decide them.
//   GET  /v1/approvals                 every approval still known, oldest first
//   GET  /v1/approvals/NAME            one
//   POST /v1/approvals/NAME/approve    {"reason"?: string}
//   POST /v1/approvals/NAME/deny       {"reason"?: string}
// The admin port also serves metrics to the cluster, so deciding is guarded: with
// --admin-token-file only a request bearing that token is heard; without it only a request
// from the loopback interface is. The decider recorded is how the request was
// authenticated; a name in the body is never trusted.

import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LocalApproval, LocalApprovalDesk } from "./local-approval-desk.ts";
import { askFields } from "./approval-desk.ts";

export interface ApprovalsApiOptions {
  readonly desk: LocalApprovalDesk;
  /** The admin token, re-read per request so a rotated file takes effect; undefined: loopback only. */
  readonly token: (() => string | undefined) | undefined;
}

export const APPROVALS_PATH = "/v1/approvals";
const MAX_BODY_BYTES = 16 * 1024;
const MAX_REASON_LENGTH = 1024;

/** Answers a request under /v1/approvals. */
export async function handleApprovalsRequest(options: ApprovalsApiOptions | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (options === undefined) {
    return json(res, 404, { error: "this sidecar has no local approvals: with --control-plane, approvals are McpApproval objects (kubectl mcpwarden approvals)" });
  }
  const caller = authenticate(options, req);
  if (!caller.ok) return json(res, caller.status, { error: caller.message }, caller.status === 401 ? { "www-authenticate": "Bearer" } : {});

  const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
  const rest = path.slice(APPROVALS_PATH.length).split("/").filter((part) => part !== "");
  if (rest.length === 0) {
    if (req.method !== "GET") return json(res, 405, { error: "method not allowed" }, { allow: "GET" });
    return json(res, 200, { items: options.desk.list().map(describe) });
  }
  const name = decodeURIComponent(rest[0] ?? "");
  if (rest.length === 1) {
    if (req.method !== "GET") return json(res, 405, { error: "method not allowed" }, { allow: "GET" });
    const approval = options.desk.get(name);
    return approval === undefined ? json(res, 404, { error: `no approval named ${name}` }) : json(res, 200, describe(approval));
  }
  const action = rest[1];
  if (rest.length !== 2 || (action !== "approve" && action !== "deny")) return json(res, 404, { error: "not found: POST /v1/approvals/NAME/approve or /deny" });
  if (req.method !== "POST") return json(res, 405, { error: "method not allowed" }, { allow: "POST" });
  const body = await readJsonBody(req);
  if (!body.ok) return json(res, 400, { error: body.message });
  const reason = body.value["reason"];
  if (reason !== undefined && (typeof reason !== "string" || reason.length > MAX_REASON_LENGTH)) {
    return json(res, 400, { error: `reason must be a string of at most ${MAX_REASON_LENGTH} characters` });
  }
  const decided = options.desk.decide(name, action, caller.decidedBy, reason);
  return decided.ok ? json(res, 200, describe(decided.approval)) : json(res, decided.status, { error: decided.message });
}

type Authenticated = { ok: true; decidedBy: string } | { ok: false; status: 401 | 403; message: string };

function authenticate(options: ApprovalsApiOptions, req: IncomingMessage): Authenticated {
  let token: string | undefined;
  try {
    token = options.token?.();
  } catch {
    return { ok: false, status: 403, message: "the admin token file cannot be read; approvals are refused" };
  }
  if (options.token !== undefined) {
    if (token === undefined || token === "") return { ok: false, status: 403, message: "the admin token file is empty; approvals are refused" };
    const header = req.headers.authorization ?? "";
    const presented = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    if (presented === undefined || !sameSecret(presented, token)) return { ok: false, status: 401, message: "the approvals API needs the admin token (Authorization: Bearer …)" };
    return { ok: true, decidedBy: "admin-token" };
  }
  if (!isLoopback(req.socket.remoteAddress)) {
    return { ok: false, status: 403, message: "the approvals API answers only on loopback unless the sidecar has --admin-token-file" };
  }
  return { ok: true, decidedBy: "loopback" };
}

function sameSecret(a: string, b: string): boolean {
  // Equal-length digests, so the comparison takes the same time whatever was presented.
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return address === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** The wire shape: the McpApproval's fields, times as RFC 3339. */
function describe(approval: LocalApproval): Record<string, unknown> {
  return {
    name: approval.name,
    phase: approval.phase,
    ...askFields(approval),
    ...(approval.verdict === undefined ? {} : { verdict: approval.verdict }),
    ...(approval.reason === undefined ? {} : { reason: approval.reason }),
    ...(approval.decidedBy === undefined ? {} : { decidedBy: approval.decidedBy }),
    ...(approval.decidedAtMs === undefined ? {} : { decidedAt: new Date(approval.decidedAtMs).toISOString() }),
  };
}

async function readJsonBody(req: IncomingMessage): Promise<{ ok: true; value: Record<string, unknown> } | { ok: false; message: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { ok: false, message: `the body is larger than ${MAX_BODY_BYTES} bytes` };
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return { ok: true, value: {} };
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) return { ok: false, message: "the body must be a JSON object" };
    return { ok: true, value: value as Record<string, unknown> };
  } catch {
    return { ok: false, message: "the body is not JSON" };
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}
