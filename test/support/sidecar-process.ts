// `mcp-warden sidecar` as a real process for tests (from dist/, as a pod runs it): free
// loopback ports, a policy written to a temporary file, ready once /readyz says so, its
// output kept, its memory readable from /proc, SIGKILLed at close if still running.
// Also raw HTTP: a request written byte for byte on a socket, for request lines no HTTP
// client would send.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../harness/free-port.ts";
import { packageRoot as repoRoot } from "../../cli/package-root.ts";

export interface SidecarProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly adminPort: number;
  /** http://127.0.0.1:PORT/mcp */
  readonly mcpUrl: string;
  readonly adminUrl: string;
  /** The folder of its policy.yaml (a test may edit it). */
  readonly policyDir: string;
  output(): string;
  /** Whether the process still runs. */
  alive(): boolean;
  /** A field of /proc/PID/status in KiB (VmHWM: peak resident memory; VmRSS: now). */
  statusKib(field: "VmHWM" | "VmRSS"): number;
  /** Open file descriptors. */
  openFds(): number;
  close(): Promise<void>;
}

export interface SidecarProcessOptions {
  readonly policy: string;
  /** --upstream URL or --upstream-command. */
  readonly upstream: { readonly url: string } | { readonly command: string };
  readonly args?: readonly string[];
  /** Node flags for the process (e.g. the heap flags the injector sets). */
  readonly nodeFlags?: readonly string[];
  /** Added to the test process's environment (e.g. OTEL_*). */
  readonly env?: Readonly<Record<string, string>>;
  /** The command's script; default dist/cli/main.js (tsc's build). */
  readonly script?: string;
}

export async function startSidecarProcess(options: SidecarProcessOptions): Promise<SidecarProcess> {
  const dir = mkdtempSync(join(tmpdir(), "mcpwarden-sidecar-"));
  writeFileSync(join(dir, "policy.yaml"), options.policy);
  const [port, adminPort] = [await freePort(), await freePort()];
  const upstream = "url" in options.upstream ? ["--upstream", options.upstream.url] : ["--upstream-command", options.upstream.command];
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeFlags ?? []),
      options.script ?? join(repoRoot(), "dist", "cli", "main.js"),
      "sidecar",
      "--listen",
      `127.0.0.1:${port}`,
      "--admin",
      `127.0.0.1:${adminPort}`,
      ...upstream,
      "--policy",
      join(dir, "policy.yaml"),
      ...(options.args ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env } },
  );
  let output = "";
  child.stdout?.on("data", (data: Buffer) => (output += data.toString()));
  child.stderr?.on("data", (data: Buffer) => (output += data.toString()));
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  for (let i = 0; i < 400 && alive(); i++) {
    if ((await fetch(`${adminUrl}/readyz`).catch(() => undefined))?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (!alive()) throw new Error(`the sidecar exited at start:\n${output}`);
  const status = (): string => readFileSync(`/proc/${child.pid}/status`, "utf8");
  return {
    child,
    port,
    adminPort,
    mcpUrl: `http://127.0.0.1:${port}/mcp`,
    adminUrl,
    policyDir: dir,
    output: () => output,
    alive,
    statusKib: (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status())?.[1] ?? Number.NaN),
    openFds: () => readdirSync(`/proc/${child.pid}/fd`).length,
    async close() {
      if (alive()) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A chunked body's content (what arrived of it). */
function dechunk(body: string): string {
  let out = "";
  let at = 0;
  for (;;) {
    const line = body.indexOf("\r\n", at);
    if (line < 0) return out;
    const size = Number.parseInt(body.slice(at, line), 16);
    if (!(size > 0)) return out;
    out += body.slice(line + 2, line + 2 + size);
    at = line + 2 + size + 2;
  }
}

export interface RawResponse {
  /** 0 when the connection closed before a status line. */
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/**
 * Writes `request` as it is and reads the reply until the server closes (or `timeoutMs`);
 * an event stream's reply ends at its head unless `untilClose`.
 */
export function rawHttp(port: number, request: string | Buffer, timeoutMs = 5_000, untilClose = false): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      const head = split < 0 ? text : text.slice(0, split);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      const body = split < 0 ? "" : text.slice(split + 4);
      resolve({ status, head, body: /\r\ntransfer-encoding: chunked/i.test(head) ? dechunk(body) : body });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("data", (chunk) => {
      chunks.push(chunk);
      // One response is enough: stop at a complete Content-Length body.
      const text = Buffer.concat(chunks).toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, split))?.[1];
      // An event stream may never end: its head is the answer.
      if (split >= 0 && !untilClose && /\r\ncontent-type: text\/event-stream/i.test(text.slice(0, split))) finish();
      else if (split >= 0 && length !== undefined && Buffer.byteLength(text.slice(split + 4), "latin1") >= Number(length)) finish();
    });
    socket.on("error", finish);
    socket.on("close", finish);
    socket.write(request);
  });
}
