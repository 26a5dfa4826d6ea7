import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * The first port of the kernel's ephemeral range (what it hands out as the local port of outgoing
 * connections and for listen(0)). Ports below it are never taken by a connection some other test
 * opens, so a port found free here stays free until the child process that was given it binds it.
 */
function ephemeralRangeStart(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 12_000) return low;
  } catch {
    // not Linux: the IANA dynamic range
  }
  return 49_152;
}

const FIRST_CANDIDATE = 10_000;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port on 127.0.0.1, free a moment ago, for a child process to listen on. It is picked at
 * random below the ephemeral range: a port the OS chose with listen(0) could be taken, between the
 * check and the child's bind, as the local port of any outgoing connection on the machine (tests
 * run in parallel), and the child would then exit with EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  const end = ephemeralRangeStart();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = FIRST_CANDIDATE + Math.floor(Math.random() * (end - FIRST_CANDIDATE));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port found between ${FIRST_CANDIDATE} and ${end}`);
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(true));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
  });
}
