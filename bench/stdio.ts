// The `stdio` section of `make bench`: what a session of a stdio MCP server costs through
// the two ways the sidecar reaches one (ADR 12) — spawned by the sidecar itself
// (`--upstream-command`, standalone) and run by mcp-warden-launcher over its Unix socket
// (`--upstream-socket`, a pod's) — for the test suite's Node feature server and, when a
// Python venv can be made here, the MockLoop server from PyPI (as in its image).
//
// - start: a new session's initialize, POST to answer: the server process starts, then
//   answers. Rounds interleave the two ways; medians.
// - memory: with SESSIONS sessions open, the RSS of each server process, the sidecar's RSS
//   growth per session, and the launcher's own RSS.

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../cli/package-root.ts";
import { freePort } from "../test/harness/free-port.ts";
import { rssMb, shippedCliScript } from "./bench-process.ts";
import { quantile } from "./text-table.ts";

const ROUNDS = Number(process.env["MCPWARDEN_BENCH_STDIO_ROUNDS"] ?? 7);
const SESSIONS = 5;
const ALLOW_ALL = "apiVersion: mcpwarden.dev/v1alpha1\nkind: McpPolicy\nmetadata: { name: allow-all }\nspec: { default: allow }\n";

interface Server {
  readonly name: string;
  readonly command: readonly string[];
}

function servers(): Server[] {
  const found: Server[] = [{ name: "Node feature server", command: [process.execPath, join(packageRoot(), "test", "support", "mcp-feature-server-stdio.ts")] }];
  const mockloop = mockloopVenv();
  if (mockloop !== undefined) found.push({ name: "MockLoop (Python)", command: [mockloop, "--stdio"] });
  return found;
}

/** mockloop-mcp in a venv of the cache, made once as images/mockloop.Dockerfile makes it; undefined without python3. */
function mockloopVenv(): string | undefined {
  const venv = join(process.env["MCPWARDEN_CACHE"] ?? join(homedir(), ".cache", "mcp-warden"), "bench", "mockloop-2.2.9");
  const command = join(venv, "bin", "mockloop-mcp");
  if (existsSync(command)) return command;
  try {
    mkdirSync(join(venv, ".."), { recursive: true });
    execFileSync("python3", ["-m", "venv", venv], { stdio: "ignore" });
    execFileSync(join(venv, "bin", "pip"), ["install", "--quiet", "mockloop-mcp==2.2.9", "mcp==1.11.0", "pydantic<2.12"], { stdio: "ignore", timeout: 600_000 });
    return command;
  } catch (error) {
    console.error(`[bench] stdio: no MockLoop venv (${error instanceof Error ? error.message : String(error)}); measuring the Node server only`);
    return undefined;
  }
}

interface Running {
  readonly url: string;
  readonly sidecar: ChildProcess;
  /** The process whose children the server processes are: the sidecar, or the launcher. */
  readonly parentPid: number;
  readonly launcher: ChildProcess | undefined;
  stop(): Promise<void>;
}

async function start(way: "spawned" | "launcher", server: Server, dir: string): Promise<Running> {
  const port = await freePort();
  const admin = await freePort();
  const policy = join(dir, "policy.yaml");
  writeFileSync(policy, ALLOW_ALL);
  let launcher: ChildProcess | undefined;
  let upstream: string[];
  const env = { ...process.env, PYTHONWARNINGS: "ignore" };
  if (way === "launcher") {
    const binary = execFileSync(join(packageRoot(), "tools", "build-launcher.sh"), { encoding: "utf8" }).trim();
    const socket = join(dir, `${port}.sock`);
    launcher = spawn(binary, ["--socket", socket, "--", ...server.command], { stdio: "ignore", env });
    await until(() => existsSync(socket));
    upstream = ["--upstream-socket", socket];
  } else {
    upstream = ["--upstream-command", server.command.map((word) => `'${word}'`).join(" ")];
  }
  const sidecar = spawn(process.execPath, [shippedCliScript(), "sidecar", "--listen", `127.0.0.1:${port}`, "--admin", `127.0.0.1:${admin}`, ...upstream, "--policy", policy, "--log-level", "warn"], { stdio: "ignore", env });
  await until(async () => (await fetch(`http://127.0.0.1:${admin}/readyz`).then((response) => response.status, () => 0)) === 200);
  const stopChild = (child: ChildProcess): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    sidecar,
    launcher,
    parentPid: (launcher ?? sidecar).pid as number,
    stop: async () => {
      await stopChild(sidecar);
      if (launcher !== undefined) await stopChild(launcher);
    },
  };
}

async function until(check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A new session: initialize, timed from POST to its answer. */
async function initialize(url: string): Promise<{ ms: number; sessionId: string }> {
  const started = performance.now();
  const response = await fetch(url, {
    method: "POST",
    headers: { accept: "application/json, text/event-stream", "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "0" } } }),
  });
  const text = await response.text();
  if (!text.includes('"result"')) throw new Error(`initialize failed: ${text.slice(0, 300)}`);
  return { ms: performance.now() - started, sessionId: response.headers.get("mcp-session-id") ?? "" };
}

async function end(url: string, sessionId: string): Promise<void> {
  await fetch(url, { method: "DELETE", headers: { "mcp-session-id": sessionId } });
}

/** Processes whose parent is `pid` (a session's server, or an `npx`-like wrapper of one). */
function children(pid: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return Number(readFileSync(`/proc/${name}/stat`, "utf8").split(") ")[1]?.split(" ")[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

export async function runStdioBench(): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), "mcp-warden-bench-stdio-"));
  const results: Record<string, object> = {};
  try {
    for (const server of servers()) {
      const ways = { spawned: await start("spawned", server, dir), launcher: await start("launcher", server, dir) };
      try {
        const starts: Record<string, number[]> = { spawned: [], launcher: [] };
        for (let round = 0; round < ROUNDS; round++) {
          for (const [way, running] of Object.entries(ways)) {
            const session = await initialize(running.url);
            starts[way]?.push(session.ms);
            await end(running.url, session.sessionId);
          }
        }
        const memory: Record<string, object> = {};
        for (const [way, running] of Object.entries(ways)) {
          await until(() => children(running.parentPid).length === 0);
          const sidecarBefore = rssMb(running.sidecar.pid as number);
          const sessions = [];
          for (let i = 0; i < SESSIONS; i++) sessions.push(await initialize(running.url));
          const serverRss = children(running.parentPid).map(rssMb);
          const sidecarAfter = rssMb(running.sidecar.pid as number);
          memory[way] = {
            serverProcessRssMb: round1(quantile(serverRss, 0.5)),
            sidecarRssGrowthPerSessionMb: round1((sidecarAfter - sidecarBefore) / SESSIONS),
            ...(running.launcher === undefined ? {} : { launcherRssMb: round1(rssMb(running.launcher.pid as number)) }),
          };
          for (const session of sessions) await end(running.url, session.sessionId);
        }
        results[server.name] = {
          sessionStartMs: { spawned: Math.round(quantile(starts.spawned ?? [], 0.5)), launcher: Math.round(quantile(starts.launcher ?? [], 0.5)) },
          memory,
        };
        console.log(`[bench] stdio ${server.name}: ${JSON.stringify(results[server.name])}`);
      } finally {
        await ways.spawned.stop();
        await ways.launcher.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { rounds: ROUNDS, sessions: SESSIONS, servers: results };
}
