// The Node limit: a bare HTTP pass-through proxy (no parsing, no policy), the least any
// Node proxy must cost. The sidecar is measured against it. Prints its port.
//
// Run alone: node bench/sidecar-passthrough.ts UPSTREAM_PORT

import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { exitWithParent } from "./bench-process.ts";

exitWithParent();

const upstreamPort = Number(process.argv[2]);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

const server = createServer((req, res) => {
  const forwarded = request(
    { host: "127.0.0.1", port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent },
    (upstream) => {
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
    },
  );
  forwarded.on("error", () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(forwarded);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: (server.address() as AddressInfo).port })));
// Exit outright: stdin, held open by exitWithParent, would keep the process alive.
process.on("SIGTERM", () => {
  server.closeAllConnections();
  process.exit(0);
});
