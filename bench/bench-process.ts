// Child processes of the benchmark: started with this module's own extension (so the
// bench runs from source or from dist/ alike), their first JSON line awaited, their RSS
// read from /proc, and stopped with SIGTERM.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { packageRoot } from "../cli/package-root.ts";

const EXTENSION = extname(fileURLToPath(import.meta.url));

/** `bench/<name>.ts` or `dist/bench/<name>.js`, as this module is. */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}${EXTENSION}`, import.meta.url));
}

/** The CLI next to this benchmark (cli/main.ts or dist/cli/main.js). */
export function cliScript(): string {
  return fileURLToPath(new URL(`../cli/main${EXTENSION}`, import.meta.url));
}

/**
 * The CLI as it ships (the npm package's command over the split build, ADR 11) when
 * `make dist` has built it, else the tsc output: what runs in a pod is what is measured.
 */
export function shippedCliScript(): string {
  const shipped = join(packageRoot(), "dist", "npm", "bin", "mcp-warden.cjs");
  return existsSync(shipped) ? shipped : cliScript();
}

export interface JsonProcess {
  readonly child: ChildProcess;
  /** Resolves with the first stdout JSON line matching `accept`. */
  readonly ready: Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export function startJsonProcess(script: string, args: string[], accept: (line: Record<string, unknown>) => boolean = () => true): JsonProcess {
  // stdin stays open: the benchmark's own children exit when it closes (see exitWithParent).
  const child = spawn(process.execPath, [script, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    let found = false;
    // Every line is read (and dropped) so a chatty child never blocks on a full pipe.
    lines.on("line", (text) => {
      if (found) return;
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        if (accept(line)) {
          found = true;
          resolve(line);
        }
      } catch {
        // not JSON: ignore
      }
    });
    child.once("exit", (code) => {
      if (!found) reject(new Error(`${script} exited with ${code} before it was ready: ${stderr}`));
    });
  });
  return {
    child,
    ready,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

/** In a child of the benchmark: exit when the benchmark does, even if it was killed. */
export function exitWithParent(): void {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
}

/** Resident set size in MB, from /proc (Linux). */
export function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? Number.NaN : Math.round(Number(match[1]) / 102.4) / 10;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (user + system) a process has used, in seconds, from /proc (Linux). Unlike
 * latency on a shared machine, CPU per call does not depend on what else runs.
 */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command (which may contain spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

/** Samples RSS every 100 ms until stopped; returns the peak. */
export function sampleRss(pid: number): { stop(): number } {
  let peak = rssMb(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMb(pid));
    },
  };
}
