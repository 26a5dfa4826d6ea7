// One MCP server process on stdio: newline-delimited JSON-RPC in both directions
// (stdout carries only messages; stderr is the server's log). Started in its own process
// group so reaping it also ends whatever it started (an `npx` wrapper's child).

import { spawn, type ChildProcess } from "node:child_process";
import type { ProxyLogger, StdioUpstream } from "../options.ts";
import { JsonMessageScanner, type ScannedMessage } from "../replies/json-message-scanner.ts";

const STDERR_LINE_LIMIT = 2_000;
const TERM_AFTER_MS = 2_000;
const KILL_AFTER_MS = 2_000;

export interface StdioProcessEvents {
  onLine(line: string): void;
  /** A line over the cap was dropped as it arrived; these are the messages it held. */
  onOversizedLine(messages: readonly ScannedMessage[]): void;
  onExit(description: string): void;
}

export interface StdioProcessOptions {
  readonly logger: ProxyLogger;
  readonly sessionId: string;
  /** A longer line is not held: it is dropped as it arrives (--max-stdio-line-bytes). */
  readonly maxLineBytes: number;
}

export class StdioProcess {
  readonly #child: ChildProcess;
  #exited = false;
  #exitWaiters: (() => void)[] = [];
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #maxLineBytes: number;
  /** Reads the ids of a line over the cap while it is dropped; undefined: no such line under way. */
  #oversized: JsonMessageScanner | undefined;

  constructor(upstream: StdioUpstream, events: StdioProcessEvents, options: StdioProcessOptions) {
    const { logger, sessionId } = options;
    this.#maxLineBytes = options.maxLineBytes;
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
    child.stdout?.on("data", (chunk: Buffer) => this.#onStdout(chunk, events));
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

  /** Writes one message line; false when the process can take no more input. */
  send(line: string): boolean {
    const stdin = this.#child.stdin;
    if (this.#exited || stdin === null || stdin.destroyed || !stdin.writable) return false;
    stdin.write(`${line}\n`);
    return true;
  }

  /** Ends the process: stdin closed (a stdio server's cue to exit), then SIGTERM, then SIGKILL. */
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

  #onStdout(chunk: Buffer, events: StdioProcessEvents): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      const part = chunk.subarray(start, newline < 0 ? chunk.length : newline);
      if (this.#oversized !== undefined) {
        this.#oversized.push(part);
      } else if (this.#pendingBytes + part.length > this.#maxLineBytes) {
        // Over the cap: from here the line is only scanned for its ids, never held.
        this.#oversized = new JsonMessageScanner();
        for (const held of this.#pending) this.#oversized.push(held);
        this.#oversized.push(part);
        this.#pending = [];
        this.#pendingBytes = 0;
      } else if (newline < 0) {
        this.#pending.push(part);
        this.#pendingBytes += part.length;
      }
      if (newline < 0) return;
      start = newline + 1;
      if (this.#oversized !== undefined) {
        const messages = this.#oversized.messages;
        this.#oversized = undefined;
        events.onOversizedLine(messages);
        continue;
      }
      const line = this.#pending.length === 0 ? part : Buffer.concat([...this.#pending, part]);
      this.#pending = [];
      this.#pendingBytes = 0;
      const text = line.toString("utf8").replace(/\r$/, "");
      if (text.trim() !== "") events.onLine(text);
    }
  }
}
