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

async function launch(port: number, dir: string): Promise<RedisServer> {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", ""],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  // A test run that ends without stop() (a crash, a timeout) must not leave a server behind.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  try {
    await waitForReady(child);
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    process.removeListener("exit", killOnExit);
    throw error;
  }

  let stopped = false;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      child.kill("SIGCONT");
      child.kill("SIGKILL");
      await exited;
      process.removeListener("exit", killOnExit);
      await rm(dir, { recursive: true, force: true });
    },
    pause() {
      child.kill("SIGSTOP");
    },
    resume() {
      child.kill("SIGCONT");
    },
  };
}

function waitForReady(child: ChildProcess): Promise<void> {
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
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      // Keep draining so a chatty server never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
      if (error) reject(error);
      else resolve();
    }
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
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
