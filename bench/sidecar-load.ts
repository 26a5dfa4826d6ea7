// The benchmark's load generator, in a process of its own so that it never shares an
// event loop with what it measures. Two modes:
//   open:   calls sent at a fixed rate whatever the target does; each latency is taken
//           from the call's *scheduled* send time, so a target that stalls is charged
//           for every call that waited behind the stall (no coordinated omission).
//   closed: `concurrency` callers, each sending its next call when the last returns:
//           the saturation throughput.
// Sub-millisecond scheduling needs the event loop to spin (timers have 1 ms
// granularity), so an open run keeps one core busy; the target gets the other.
//
// Input: one JSON argument (LoadPlan). Output: one JSON line (LoadResult).

import { Agent, request, type OutgoingHttpHeaders } from "node:http";
import { exitWithParent } from "./bench-process.ts";

exitWithParent();

export interface LoadPlan {
  url: string;
  mode: "open" | "closed";
  /** open: calls per second. */
  rate?: number;
  /** closed: callers in flight. */
  concurrency?: number;
  durationMs: number;
  warmupMs: number;
  /** Callers named by an x-agent-id header, round robin (0: no header). */
  agents?: number;
  /**
   * open: "spin" sends each call at its time (the event loop spins between sends: a core
   * busy); "timer" wakes every millisecond and sends the calls that are due (timer
   * lateness, up to ~1 ms, is charged to the target). Default "spin".
   */
  scheduler?: "spin" | "timer";
  /** Send initialize (and use the session id the reply names) before the calls. */
  initialize?: boolean;
}

export interface LoadResult {
  calls: number;
  errors: number;
  /** Replies that were a refusal or a JSON-RPC error rather than the tool's result. */
  refusals: number;
  elapsedSeconds: number;
  callsPerSecond: number;
  /** Microseconds, from the scheduled send time (open) or the send (closed). */
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number };
  /** open: how late calls were sent after their scheduled time (the generator's own lag). */
  sendLagUs?: { p50: number; p99: number };
  firstError?: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1024, keepAliveMsecs: 30_000 });
const nowUs = (): number => Number(process.hrtime.bigint()) / 1000;

interface Reply {
  status: number;
  body: string;
  sessionId: string | undefined;
}

function post(url: URL, headers: OutgoingHttpHeaders, body: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { ...headers, "content-length": Buffer.byteLength(body) }, agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, sessionId: res.headers["mcp-session-id"] as string | undefined }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number);
}

class Recorder {
  latencies: number[] = [];
  lags: number[] = [];
  errors = 0;
  refusals = 0;
  firstError: string | undefined;

  record(reply: Reply | Error, latencyUs: number): void {
    if (reply instanceof Error) {
      this.errors++;
      this.firstError ??= reply.message;
      return;
    }
    if (reply.status !== 200) {
      this.errors++;
      this.firstError ??= `HTTP ${reply.status}: ${reply.body.slice(0, 200)}`;
      return;
    }
    if (reply.body.includes('"isError":true') || reply.body.includes('"error":')) {
      this.refusals++;
      this.firstError ??= reply.body.slice(0, 300);
    }
    this.latencies.push(latencyUs);
  }
}

async function run(plan: LoadPlan): Promise<LoadResult> {
  const url = new URL(plan.url);
  const headers: OutgoingHttpHeaders = { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18" };
  const agents = plan.agents ?? 0;
  if (agents > 0) headers["x-agent-id"] = "agent-0";
  if (plan.initialize ?? true) {
    const init = await post(url, headers, JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "0" } } }));
    if (init.status !== 200) throw new Error(`initialize failed: HTTP ${init.status} ${init.body.slice(0, 200)}`);
    if (init.sessionId !== undefined) headers["mcp-session-id"] = init.sessionId;
    await post(url, headers, JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
  }
  let id = 1;
  const call = (): Promise<Reply> => {
    const n = id++;
    const callHeaders = agents > 0 ? { ...headers, "x-agent-id": `agent-${n % agents}` } : headers;
    const body = `{"jsonrpc":"2.0","id":${n},"method":"tools/call","params":{"name":"run_test_iteration","arguments":{"scenario":"smoke-${n % 7}","iterations":${1 + (n % 5)}}}}`;
    return post(url, callHeaders, body);
  };

  if (plan.mode === "closed") {
    const concurrency = plan.concurrency ?? 32;
    await closedLoop(call, concurrency, plan.warmupMs, new Recorder());
    const recorder = new Recorder();
    const elapsed = await closedLoop(call, concurrency, plan.durationMs, recorder);
    return summarise(recorder, elapsed);
  }
  const rate = plan.rate ?? 2000;
  const spin = (plan.scheduler ?? "spin") === "spin";
  await openLoop(call, rate, plan.warmupMs, new Recorder(), spin);
  const recorder = new Recorder();
  const elapsed = await openLoop(call, rate, plan.durationMs, recorder, spin);
  return summarise(recorder, elapsed);
}

async function closedLoop(call: () => Promise<Reply>, concurrency: number, durationMs: number, recorder: Recorder): Promise<number> {
  const start = nowUs();
  const end = start + durationMs * 1000;
  const caller = async (): Promise<void> => {
    while (nowUs() < end) {
      const sent = nowUs();
      const reply = await call().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
      recorder.record(reply, nowUs() - sent);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return (nowUs() - start) / 1e6;
}

function openLoop(call: () => Promise<Reply>, rate: number, durationMs: number, recorder: Recorder, spin: boolean): Promise<number> {
  const intervalUs = 1e6 / rate;
  const total = Math.round((rate * durationMs) / 1000);
  const start = nowUs();
  let sent = 0;
  let done = 0;
  return new Promise((resolve) => {
    if (total === 0) return resolve(0);
    const finish = (): void => {
      if (++done === total) resolve((nowUs() - start) / 1e6);
    };
    const tick = (): void => {
      const now = nowUs();
      while (sent < total && start + sent * intervalUs <= now) {
        const scheduled = start + sent * intervalUs;
        recorder.lags.push(nowUs() - scheduled);
        sent++;
        call().then(
          (reply) => {
            recorder.record(reply, nowUs() - scheduled);
            finish();
          },
          (error: unknown) => {
            recorder.record(error instanceof Error ? error : new Error(String(error)), 0);
            finish();
          },
        );
      }
      if (sent >= total) return;
      const waitUs = start + sent * intervalUs - nowUs();
      if (!spin) setTimeout(tick, Math.max(1, Math.floor(waitUs / 1000)));
      else if (waitUs > 2_000) setTimeout(tick, Math.floor(waitUs / 1000) - 1);
      else setImmediate(tick);
    };
    tick();
  });
}

function summarise(recorder: Recorder, elapsedSeconds: number): LoadResult {
  const sorted = Float64Array.from(recorder.latencies).sort();
  const lags = Float64Array.from(recorder.lags).sort();
  const result: LoadResult = {
    calls: recorder.latencies.length,
    errors: recorder.errors,
    refusals: recorder.refusals,
    elapsedSeconds: Math.round(elapsedSeconds * 1000) / 1000,
    callsPerSecond: Math.round(recorder.latencies.length / elapsedSeconds),
    latencyUs: { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999), max: percentile(sorted, 1) },
  };
  if (lags.length > 0) result.sendLagUs = { p50: percentile(lags, 0.5), p99: percentile(lags, 0.99) };
  if (recorder.firstError !== undefined) result.firstError = recorder.firstError;
  return result;
}

const plan = JSON.parse(process.argv[2] ?? "{}") as LoadPlan;
try {
  console.log(JSON.stringify(await run(plan)));
} catch (error) {
  console.log(JSON.stringify({ failed: error instanceof Error ? error.message : String(error) }));
  process.exitCode = 1;
}
agent.destroy();
// stdin (kept open by exitWithParent) would hold the process.
process.exit();
