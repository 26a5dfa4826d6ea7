// A child process that cannot outlive us. It runs under a small shell guard that
// holds the read end of a pipe from this process: when we close the pipe — on
// purpose in stop(), or because this process died in any way at all — the guard
// sends SIGTERM (or the signal it was given) to the child, then SIGKILL if it lingers.
// No orphans, even on kill -9. A launcher (e.g. nsenter into the local cluster's
// namespaces) runs the guard itself, so the guard and the child live where the launcher
// puts them and the pipe still reaches the guard.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync, type WriteStream } from "node:fs";

// An asynchronous list's stdin is /dev/null in a non-interactive shell unless it is
// redirected explicitly, hence fd 3.
const guardScript = `
signal="$1"; shift
exec 3<&0
"$@" <&- 3<&- &
child=$!
( cat <&3 >/dev/null; kill -"$signal" "$child" 2>/dev/null; sleep 10; kill -KILL "$child" 2>/dev/null ) &
watcher=$!
wait "$child"
status=$?
kill "$watcher" 2>/dev/null
exit $status
`;

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A command prefix that runs the guard (and so the child), e.g. `nsenter --target PID --net --mount --pid --`. */
  launcher?: string[];
  /** What the guard sends first when the pipe closes (default TERM; KILL for what must die at once). */
  stopSignal?: "TERM" | "INT" | "KILL";
}

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  constructor(options: ManagedProcessOptions) {
    this.name = options.name;
    this.logFile = options.logFile;
    this.log = createWriteStream(options.logFile, { flags: "a" });
    const guarded = ["sh", "-c", guardScript, "guard", options.stopSignal ?? "TERM", options.command, ...options.args];
    const [command, ...args] = [...(options.launcher ?? []), ...guarded] as [string, ...string[]];
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      // Own process group: a terminal's Ctrl-C reaches us, and we stop the child in order.
      detached: true,
    });
    this.child.stdout?.pipe(this.log, { end: false });
    this.child.stderr?.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code) => {
        this.exitCode = code;
        resolve(code);
      });
      this.child.once("error", (err) => {
        this.log.write(`[harness] failed to start ${options.command}: ${err.message}\n`);
        this.exitCode = -1;
        resolve(-1);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Resolves with the exit code when the process ends (early or after stop()). */
  whenExited(): Promise<number | null> {
    return this.exited;
  }

  /** Sends a signal to the child and its guard (SIGSTOP/SIGCONT pause and resume both). */
  signal(signal: NodeJS.Signals): void {
    try {
      if (this.running && this.child.pid) process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Resolves once the log contains `pattern`; rejects if the process exits first or time runs out. */
  async waitForLog(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let text = "";
      try {
        text = readFileSync(this.logFile, "utf8");
      } catch {
        // not written yet
      }
      const match = pattern.exec(text);
      if (match) return match;
      if (!this.running) throw new Error(`${this.name} exited (${String(this.exitCode)}) before logging ${pattern}:\n${text.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not log ${pattern} within ${timeoutMs} ms:\n${text.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** SIGTERM through the guard, then SIGKILL to the whole group after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.running) {
      this.signal("SIGCONT"); // a paused guard could not notice the pipe closing
      this.child.stdin?.end();
      const timer = setTimeout(() => {
        try {
          if (this.child.pid) process.kill(-this.child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}
