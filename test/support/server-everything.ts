// @modelcontextprotocol/server-everything as a real upstream: its Streamable HTTP
// transport on a free loopback port, in a child process ended with the test.

import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "../harness/free-port.ts";

export interface EverythingHttp {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startEverythingHttp(entry: string): Promise<EverythingHttp> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [entry, "streamableHttp"], { env: { ...process.env, PORT: String(port) }, stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server-everything did not start in 20 s")), 20_000);
    const onData = (chunk: Buffer): void => {
      if (chunk.toString().includes("listening on port")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr?.on("data", onData);
    child.stdout?.on("data", () => undefined);
    child.once("exit", (code) => reject(new Error(`server-everything exited with ${String(code)}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGKILL");
      await exited;
    },
  };
}
