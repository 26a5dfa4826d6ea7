// One MCP server process on stdio: newline-delimited JSON-RPC in both directions
// (stdout carries only messages; stderr is the server's log). Started in its own process
// group so reaping it also ends whatever it started (an `npx` wrapper's child).

import { spawn, type ChildProcess } from "node:child_process";
import type { ProxyLogger, StdioUpstream } from "../options.ts";
import { ServerOutputLines, type ServerOutputEvents } from "./server-output-lines.ts";

const STDERR_LINE_LIMIT = 2_000;
const TERM_AFTER_MS = 2_000;
const KILL_AFTER_MS = 2_000;

export interface StdioProcessEvents extends ServerOutputEvents {
  onExit(description: string): void;
}

/** One MCP server process of a session, however it was started: spawned here, or by the launcher. */
export interface ServerProcess {
  readonly pid: number | undefined;
  readonly exited: boolean;
  send(line: string): boolean;
  reap(): Promise<void>;
}

export interface StdioProcessOptions {
  readonly logger: ProxyLogger;
  readonly sessionId: string;
  /** A longer line is not held: it is dropped as it arrives (--max-stdio-line-bytes). */
  readonly maxLineBytes: number;
}

export class StdioProcess implements ServerProcess {
  readonly #child: ChildProcess;
  #exited = false;
  #exitWaiters: (() => void)[] = [];
  readonly #lines: ServerOutputLines;

  constructor(upstream: StdioUpstream, events: StdioProcessEvents, options: StdioProcessOptions) {
    const { logger, sessionId } = options;
    this.#lines = new ServerOutputLines(options.maxLineBytes);
    this.#child = spawn(upstream.command, [...upstream.args], {
      cwd: upstream.cwd,
      env: { ...process.env, ...upstream.env },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    const child = this.#child;
    let reported = false;
    const exit = (description: string): void => {
      if (reported) return;
      reported = true;
      this.#exited = true;
      events.onExit(description);
      for (const waiter of this.#exitWaiters.splice(0)) waiter();
    };
    child.once("error", (error) => {
      logger.error({ err: error, sessionId, command: upstream.command }, "the MCP server process failed");
      exit(`the MCP server process could not run: ${error.message}`);
    });
    child.once("exit", (code, signal) => exit(`the MCP server process exited (${signal === null ? `code ${code}` : signal})`));
    child.stdin?.on("error", () => undefined);
    child.stdout?.on("data", (chunk: Buffer) => this.#lines.push(chunk, events));
    let stderrTail = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      const lines = (stderrTail + text).split("\n");
      stderrTail = (lines.pop() ?? "").slice(-STDERR_LINE_LIMIT);
      for (const line of lines) if (line.trim() !== "") logger.info({ sessionId, stderr: line.slice(0, STDERR_LINE_LIMIT) }, "MCP server log");
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get exited(): boolean {
    return this.#exited;
  }

  send(line: string): boolean {
    const stdin = this.#child.stdin;
    if (this.#exited || stdin === null || stdin.destroyed || !stdin.writable) return false;
    stdin.write(`${line}\n`);
    return true;
  }

  reap(): Promise<void> {
    if (this.#exited) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#exitWaiters.push(resolve));
    this.#child.stdin?.end();
    const term = setTimeout(() => this.#signal("SIGTERM"), TERM_AFTER_MS);
    const kill = setTimeout(() => this.#signal("SIGKILL"), TERM_AFTER_MS + KILL_AFTER_MS);
    void done.then(() => {
      clearTimeout(term);
      clearTimeout(kill);
    });
    return done;
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#exited || this.#child.pid === undefined) return;
    try {
      process.kill(-this.#child.pid, signal);
    } catch {
      try {
        this.#child.kill(signal);
      } catch {
        // Already gone.
      }
    }
  }
}
