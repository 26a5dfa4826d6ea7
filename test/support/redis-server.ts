// Starts a throwaway redis-server for a test: loopback only, a free port, no persistence,
// its working directory in a temp dir that stop() removes. Tests that need Redis use a
// real one (STYLE.md); this keeps each test file's server private to it.

import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../harness/free-port.ts";
import { ManagedProcess } from "../harness/managed-process.ts";

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
    const port = options.port ?? (await freePort());
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

// ManagedProcess runs redis-server under a guard that kills it when this process dies
// in any way (even SIGKILL), so a test run never leaves a server behind.
async function launch(port: number, dir: string): Promise<RedisServer> {
  const server = new ManagedProcess({
    name: "redis-server",
    command: "redis-server",
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", ""],
    logFile: join(dir, "redis.log"),
  });
  try {
    await server.waitForLog(new RegExp(READY_LINE), START_TIMEOUT_MS);
  } catch (error) {
    await server.stop(1_000);
    throw error;
  }
  let stopped = false;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop(1_000);
      await rm(dir, { recursive: true, force: true });
    },
    pause() {
      server.signal("SIGSTOP");
    },
    resume() {
      server.signal("SIGCONT");
    },
  };
}
