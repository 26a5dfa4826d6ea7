// Starts a throwaway redis-server for a test: loopback only, a free port, no persistence,
// its working directory in a temp dir that stop() removes. Tests that need Redis use a
// real one (STYLE.md); this keeps each test file's server private to it.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RedisServer {
  port: number;
  url: string;
  /** Terminates the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGSTOP: the port stays open but nothing answers (a hung or partitioned Redis). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
}

export interface StartRedisServerOptions {
  /** Listen on this port (e.g. to restart a stopped server where clients expect it). */
  port?: number;
}

const READY_LINE = "Ready to accept connections";
const START_TIMEOUT_MS = 10_000;

export function redisServerInstalled(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServer> {
  if (!redisServerInstalled()) {
    throw new Error("redis-server is not installed; run tools/ensure-system-packages.sh (or make system-packages)");
  }
  // A port picked free can be taken before redis binds it; try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < (options.port === undefined ? 5 : 1); attempt++) {
    const port = options.port ?? (await freeLoopbackPort());
    const dir = await mkdtemp(join(tmpdir(), "mcpwarden-redis-"));
    try {
      return await launch(port, dir);
    } catch (error) {
      lastError = error;
      await rm(dir, { recursive: true, force: true });
    }
  }
  throw lastError;
}

// redis-server runs under a small shell guard holding the read end of a pipe from this
// process: when the pipe closes (stop(), or this process dying in any way, even
// SIGKILL) the guard kills the server, so a test run never leaves one behind. The
// guard prints the server's pid first so pause() can signal the server itself. Stdin
// moves to fd 3 because a background list's stdin is /dev/null in a non-interactive shell.
const GUARD_SCRIPT = `
exec 3<&0
redis-server "$@" <&- 3<&- &
server=$!
echo "redis-server pid $server"
( cat <&3 >/dev/null; kill -CONT "$server" 2>/dev/null; kill -KILL "$server" 2>/dev/null ) &
wait "$server"
`;

async function launch(port: number, dir: string): Promise<RedisServer> {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", ""];
  const guard = spawn("sh", ["-c", GUARD_SCRIPT, "redis-guard", ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => guard.once("exit", () => resolve()));
  let serverPid: number | undefined;
  const signalServer = (signal: NodeJS.Signals): void => {
    if (serverPid === undefined) return;
    try {
      process.kill(serverPid, signal);
    } catch {
      // Already gone.
    }
  };

  try {
    serverPid = await waitForReady(guard);
  } catch (error) {
    guard.stdin?.end();
    await exited;
    throw error;
  }

  let stopped = false;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      signalServer("SIGCONT");
      signalServer("SIGKILL");
      guard.stdin?.end();
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
    pause() {
      signalServer("SIGSTOP");
    },
    resume() {
      signalServer("SIGCONT");
    },
  };
}

/** Resolves with the server's pid once it accepts connections. */
function waitForReady(guard: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => finish(new Error(`redis-server not ready after ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(READY_LINE)) finish();
    };
    const onExit = (code: number | null): void => finish(new Error(`redis-server exited (${String(code)}):\n${output}`));
    function finish(error?: Error): void {
      clearTimeout(timer);
      guard.stdout?.off("data", onData);
      guard.stderr?.off("data", onData);
      guard.off("exit", onExit);
      // Keep draining so a chatty server never blocks on a full pipe.
      guard.stdout?.resume();
      guard.stderr?.resume();
      const pid = /redis-server pid (\d+)/.exec(output)?.[1];
      if (error) reject(error);
      else if (pid === undefined) reject(new Error(`redis-server guard did not report a pid:\n${output}`));
      else resolve(Number(pid));
    }
    guard.stdout?.on("data", onData);
    guard.stderr?.on("data", onData);
    guard.once("exit", onExit);
  });
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("no port assigned"));
      });
    });
  });
}
