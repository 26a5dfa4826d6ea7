// One MCP server process of a session, run by mcp-warden-launcher in the server's own
// container (a pod whose server speaks stdio; ADR 12): a connection to the launcher's Unix
// socket is the process's stdin and stdout. The launcher writes one line first —
// "mcp-warden-launcher/1 pid=N" — then everything is the server's. Ending the session is
// half-closing the connection: the server reads end-of-file, and the launcher sends
// SIGTERM, then SIGKILL, if it has not exited 2 s and 4 s later. Its exit closes the
// connection; its stderr and exit status are in the server container's log.
import { connect, type Socket } from "node:net";
import type { LauncherUpstream, ProxyLogger } from "../options.ts";
import { ServerOutputLines } from "./server-output-lines.ts";
import type { ServerProcess, StdioProcessEvents, StdioProcessOptions } from "./stdio-process.ts";

const HEADER = /^mcp-warden-launcher\/1 pid=(\d+)$/;
/** The launcher may still be starting when the sidecar's first client arrives. */
const CONNECT_RETRY_MS = 10_000;
const CONNECT_RETRY_INTERVAL_MS = 100;
/** After the launcher's SIGKILL (4 s after the half-close), a connection still open is dropped. */
const CLOSE_AFTER_MS = 5_000;
const HEADER_LIMIT = 128;

export class LauncherProcess implements ServerProcess {
  readonly #upstream: LauncherUpstream;
  readonly #events: StdioProcessEvents;
  readonly #logger: ProxyLogger;
  readonly #sessionId: string;
  readonly #lines: ServerOutputLines;
  #socket: Socket | undefined;
  /** Once the socket connects; until then lines are queued and a failed attempt is retried. */
  #connected = false;
  #pid: number | undefined;
  /** Lines written before the connection is up. */
  #queued: string[] = [];
  #header = Buffer.alloc(0);
  #exited = false;
  #ending = false;
  #exitWaiters: (() => void)[] = [];

  constructor(upstream: LauncherUpstream, events: StdioProcessEvents, options: StdioProcessOptions) {
    this.#upstream = upstream;
    this.#events = events;
    this.#logger = options.logger;
    this.#sessionId = options.sessionId;
    this.#lines = new ServerOutputLines(options.maxLineBytes);
    this.#connect(Date.now() + CONNECT_RETRY_MS);
  }

  get pid(): number | undefined {
    return this.#pid;
  }

  get exited(): boolean {
    return this.#exited;
  }

  send(line: string): boolean {
    if (this.#exited || this.#ending) return false;
    const socket = this.#socket;
    if (!this.#connected || socket === undefined) {
      this.#queued.push(`${line}\n`);
      return true;
    }
    if (!socket.writable) return false;
    socket.write(`${line}\n`);
    return true;
  }

  reap(): Promise<void> {
    if (this.#exited) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#exitWaiters.push(resolve));
    this.#ending = true;
    const socket = this.#socket;
    if (socket === undefined || !this.#connected) {
      socket?.destroy();
      this.#exit("the session ended before the MCP server started");
      return done;
    }
    socket.end();
    const drop = setTimeout(() => socket.destroy(), CLOSE_AFTER_MS);
    void done.then(() => clearTimeout(drop));
    return done;
  }

  #connect(deadline: number): void {
    if (this.#ending) return;
    const socket = connect({ path: this.#upstream.socket });
    this.#socket = socket;
    socket.once("connect", () => {
      this.#connected = true;
      for (const line of this.#queued.splice(0)) socket.write(line);
    });
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (!this.#connected && retryable(error.code) && Date.now() < deadline && !this.#ending) {
        socket.removeAllListeners("close");
        setTimeout(() => this.#connect(deadline), CONNECT_RETRY_INTERVAL_MS).unref();
        return;
      }
      // Once connected, an error (EPIPE: the process exited while a line was written) is followed by close, which reports it.
      if (!this.#connected) {
        this.#logger.error({ sessionId: this.#sessionId, socket: this.#upstream.socket, code: error.code }, "cannot reach the MCP server's launcher");
        this.#exit(`the MCP server could not be started: the launcher at ${this.#upstream.socket} does not answer (${error.code ?? error.message})`);
      }
    });
    socket.once("close", () => {
      if (this.#pid === undefined) {
        // The launcher accepted, and the process was gone before its first line was read: it exited at once.
        this.#exit("the MCP server process ended as it started; its exit status is in the server container's log");
        return;
      }
      this.#exit(`the MCP server process (pid ${this.#pid} in the server container) ended; its exit status is in the server container's log`);
    });
  }

  #onData(chunk: Buffer): void {
    if (this.#pid !== undefined) {
      this.#lines.push(chunk, this.#events);
      return;
    }
    this.#header = Buffer.concat([this.#header, chunk]);
    const newline = this.#header.indexOf(0x0a);
    if (newline < 0) {
      if (this.#header.length > HEADER_LIMIT) this.#fail("the socket's first line is not an mcp-warden launcher's");
      return;
    }
    const match = HEADER.exec(this.#header.subarray(0, newline).toString("latin1"));
    if (match === null) {
      this.#fail("the socket's first line is not an mcp-warden launcher's");
      return;
    }
    this.#pid = Number(match[1]);
    const rest = this.#header.subarray(newline + 1);
    this.#header = Buffer.alloc(0);
    if (rest.length > 0) this.#lines.push(rest, this.#events);
  }

  #fail(why: string): void {
    this.#logger.error({ sessionId: this.#sessionId, socket: this.#upstream.socket }, why);
    this.#exit(`the MCP server could not be started: ${why}`);
    this.#socket?.destroy();
  }

  #exit(description: string): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#queued = [];
    this.#events.onExit(description);
    for (const waiter of this.#exitWaiters.splice(0)) waiter();
  }
}

function retryable(code: string | undefined): boolean {
  return code === "ENOENT" || code === "ECONNREFUSED" || code === "EAGAIN";
}
