// The upstream client against real local HTTP servers: what its callers rely on when an
// upstream stalls mid-reply or a reply is read twice.
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createUpstreamAgent, readWholeBody, UpstreamTimeoutError, type UpstreamAgent } from "./upstream-agent.ts";

describe("the upstream agent", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function serve(handler: (res: ServerResponse) => void): Promise<{ origin: string; agent: UpstreamAgent }> {
    const open: ServerResponse[] = [];
    const server: Server = createServer((_req, res) => {
      open.push(res);
      handler(res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const agent = createUpstreamAgent();
    cleanups.push(async () => {
      await agent.close();
      for (const res of open) res.destroy();
      await new Promise((resolve) => server.close(resolve));
    });
    return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, agent };
  }

  it("a reply that goes silent mid-body fails its reader with a timeout, not a reset", async () => {
    const { origin, agent } = await serve((res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      res.write('{"partial":');
    });
    const reply = await agent.request({ origin, path: "/mcp", method: "POST", headers: {}, body: "{}", headersTimeout: 5_000, bodyTimeout: 150 });
    expect(reply.statusCode).toBe(200);
    await expect(readWholeBody(reply.body)).rejects.toBeInstanceOf(UpstreamTimeoutError);
  });

  it("a reply with no head in time rejects the request with a timeout", async () => {
    const { origin, agent } = await serve(() => {});
    await expect(agent.request({ origin, path: "/mcp", method: "POST", headers: {}, body: "{}", headersTimeout: 150, bodyTimeout: 0 })).rejects.toBeInstanceOf(UpstreamTimeoutError);
  });

  it("a refused connection is not a timeout", async () => {
    const { origin, agent } = await serve(() => {});
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const refused = agent.request({ origin: origin.replace(/:\d+$/, `:${closedPort}`), path: "/mcp", method: "GET", headers: {}, headersTimeout: 5_000, bodyTimeout: 0 });
    await expect(refused).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await expect(refused).rejects.not.toBeInstanceOf(UpstreamTimeoutError);
  });

  it("reading a reply a second time fails at once instead of waiting forever", async () => {
    const { origin, agent } = await serve((res) => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
    const reply = await agent.request({ origin, path: "/mcp", method: "POST", headers: {}, body: "{}", headersTimeout: 5_000, bodyTimeout: 5_000 });
    expect((await readWholeBody(reply.body)).toString()).toBe('{"ok":true}');
    await expect(readWholeBody(reply.body)).rejects.toThrow("already read");
  });
});
