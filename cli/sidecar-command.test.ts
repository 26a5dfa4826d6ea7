import { Command, CommanderError } from "commander";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RunningSidecar, SidecarConfig } from "../sidecar/start-sidecar.ts";
import { registerSidecarCommand, sidecarConfigFromFlags, type SidecarFlags } from "./sidecar-command.ts";

const scratch = mkdtempSync(join(tmpdir(), "mcp-warden-sidecar-cli-"));
const policy = join(scratch, "policy.yaml");
writeFileSync(policy, "version: '1'\ndefault: deny\n");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const defaults: SidecarFlags = { listen: "127.0.0.1:9000", admin: "127.0.0.1:9464", policy, rateLimitFailureMode: "local", logLevel: "info", shutdownGrace: "10", approvalHold: "50", approvalTtl: "3600" };

describe("sidecarConfigFromFlags", () => {
  it("reads a URL upstream and the defaults", () => {
    expect(sidecarConfigFromFlags({ ...defaults, upstream: "http://127.0.0.1:8080/mcp" })).toEqual({
      ok: true,
      config: {
        listen: { host: "127.0.0.1", port: 9000 },
        admin: { host: "127.0.0.1", port: 9464 },
        upstream: { url: "http://127.0.0.1:8080/mcp" },
        policyPath: policy,
        rateLimitFailureMode: "local",
        logArguments: false,
        logLevel: "info",
        shutdownGraceMs: 10_000,
        approvalHoldMs: 50_000,
        approvalDecidedTtlMs: 3_600_000,
        tunables: {},
        forwardPaths: [],
      },
    });
  });

  it("reads the caps, timeouts and forwarded paths", () => {
    const read = sidecarConfigFromFlags({
      ...defaults,
      upstream: "http://127.0.0.1:8080/mcp",
      maxRequestBytes: "512Ki",
      maxInspectedReplyBytes: "8Mi",
      maxConnections: "64",
      sessionIdleTimeout: "10m",
      upstreamTimeout: "90s",
      headerTimeout: "500ms",
      forwardPath: ["/api/", "/health"],
    });
    expect(read).toMatchObject({
      ok: true,
      config: {
        tunables: { maxRequestBytes: 512 * 1024, maxInspectedReplyBytes: 8 * 1024 * 1024, maxConnections: 64, sessionIdleTimeout: 600_000, upstreamTimeout: 90_000, headerTimeout: 500 },
        forwardPaths: ["/api", "/health"],
      },
    });
  });

  it("splits an upstream command like a shell, without one", () => {
    const read = sidecarConfigFromFlags({ ...defaults, upstreamCommand: `node "my server.js" --name 'a b'`, listen: "[::1]:9000", admin: ":9464", redis: "redis://127.0.0.1:6379", rateLimitFailureMode: "deny" });
    expect(read).toMatchObject({
      ok: true,
      config: { upstream: { command: "node", args: ["my server.js", "--name", "a b"] }, listen: { host: "::1", port: 9000 }, admin: { host: "0.0.0.0", port: 9464 }, redisUrl: "redis://127.0.0.1:6379", rateLimitFailureMode: "deny" },
    });
  });

  it.each<[Partial<SidecarFlags>, string]>([
    [{}, "give exactly one of --upstream URL, --upstream-command CMD and --upstream-socket PATH"],
    [{ upstream: "http://a/mcp", upstreamCommand: "x" }, "give exactly one of --upstream URL, --upstream-command CMD and --upstream-socket PATH"],
    [{ upstream: "http://a/mcp", upstreamSocket: "/run/s.sock" }, "give exactly one of --upstream URL, --upstream-command CMD and --upstream-socket PATH"],
    [{ upstreamSocket: "run/s.sock" }, '--upstream-socket must be an absolute path to mcp-warden-launcher\'s Unix socket, got "run/s.sock"'],
    [{ upstream: "ftp://a/mcp" }, "--upstream must be an http:// or https:// URL"],
    [{ upstreamCommand: "node 'open" }, "--upstream-command has an unterminated single quote"],
    [{ upstream: "http://a/mcp", listen: "9000" }, "--listen must be HOST:PORT"],
    [{ upstream: "http://a/mcp", admin: "127.0.0.1:70000" }, "--admin must be HOST:PORT"],
    [{ upstream: "http://a/mcp", admin: "127.0.0.1:9000" }, "--admin must differ from --listen"],
    [{ upstream: "http://a/mcp", policy: "/nonexistent/policy.yaml" }, "--policy /nonexistent/policy.yaml: no such file or directory"],
    [{ upstream: "http://a/mcp", redis: "http://redis" }, "--redis must be a redis:// or rediss:// URL"],
    [{ upstream: "http://a/mcp", shutdownGrace: "soon" }, "--shutdown-grace must be a number of seconds"],
    [{ upstream: "http://a/mcp", approvalHold: "0" }, "--approval-hold must be a number of seconds above 0"],
    [{ upstream: "http://a/mcp", approvalTtl: "1h" }, "--approval-ttl must be a whole number of seconds"],
    [{ upstream: "http://a/mcp", adminTokenFile: "/nonexistent/token" }, "--admin-token-file /nonexistent/token: cannot be read"],
    [{ upstream: "http://a/mcp", maxSessions: "0" }, '--max-sessions must be a whole number from 1 to 1000000, got "0"'],
    [{ upstream: "http://a/mcp", maxConnections: "-5" }, '--max-connections must be a whole number from 1 to 1000000, got "-5"'],
    [{ upstream: "http://a/mcp", maxRequestBytes: "4MB" }, '--max-request-bytes must be a size above 0 such as 4Mi'],
    [{ upstream: "http://a/mcp", maxStdioLineBytes: "0Mi" }, "--max-stdio-line-bytes must be a size above 0"],
    [{ upstream: "http://a/mcp", upstreamTimeout: "0s" }, '--upstream-timeout must be a duration above 0 such as 500ms, 30s, 10m or 2h, at most 168h, got "0s"'],
    [{ upstream: "http://a/mcp", bodyTimeout: "30" }, "--body-timeout must be a duration above 0"],
    [{ upstream: "http://a/mcp", sessionIdleTimeout: "soon" }, "--session-idle-timeout must be a duration above 0"],
    [{ upstream: "http://a/mcp", forwardPath: ["api"] }, '--forward-path "api" must be an absolute path such as /api'],
    [{ upstream: "http://a/mcp", forwardPath: ["/a/%2e%2e/b"] }, "--forward-path \"/a/%2e%2e/b\": encoded dot segments are refused"],
    [{ upstreamCommand: "node server.js", forwardPath: ["/api"] }, "--forward-path needs --upstream URL"],
  ])("refuses %j", (flags, message) => {
    const read = sidecarConfigFromFlags({ ...defaults, ...flags });
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.message).toContain(message);
  });
});

interface Run {
  code: number | undefined;
  stderr: string[];
  started: SidecarConfig[];
  signals: Map<string, () => void>;
  closed: number;
}

async function run(...args: string[]): Promise<Run> {
  const result: Run = { code: undefined, stderr: [], started: [], signals: new Map(), closed: 0 };
  const program = new Command("mcp-warden").exitOverride().configureOutput({ writeErr: (text) => void result.stderr.push(text.trimEnd()), writeOut: () => undefined });
  const running = { close: async () => void result.closed++ } as unknown as RunningSidecar;
  registerSidecarCommand(
    program,
    async (config) => {
      result.started.push(config);
      if (config.listen.port === 1) throw new Error("listen EADDRINUSE: address already in use 127.0.0.1:1");
      return running;
    },
    { onSignal: (signal, handler) => void result.signals.set(signal, handler), exit: (code) => void (result.code = code), stderr: (line) => void result.stderr.push(line) },
  );
  try {
    await program.parseAsync(["node", "mcp-warden", "sidecar", ...args]);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    result.code = error.exitCode === 0 ? 0 : 2;
  }
  return result;
}

describe("mcp-warden sidecar", () => {
  it("a bad flag is one error line and exit 2, before anything starts", async () => {
    const result = await run("--upstream", "ftp://x", "--policy", policy);
    expect(result.code).toBe(2);
    expect(result.stderr).toEqual(['error: --upstream must be an http:// or https:// URL, got "ftp://x"']);
    expect(result.started).toEqual([]);
    const missing = await run("--upstream", "http://x/mcp");
    expect([missing.code, missing.stderr]).toEqual([2, ["error: give exactly one of --policy PATH (files) and --control-plane URL (the operator)"]]);
    const choice = await run("--upstream", "http://x/mcp", "--policy", policy, "--rate-limit-failure-mode", "maybe");
    expect(choice.code).toBe(2);
    expect(choice.stderr[0]).toContain("error: option '--rate-limit-failure-mode <mode>' argument 'maybe' is invalid");
  });

  it("starts, and SIGTERM closes then exits 0; a second signal exits 1 at once", async () => {
    const result = await run("--upstream", "http://127.0.0.1:8080/mcp", "--policy", policy, "--log-arguments");
    expect(result.started).toHaveLength(1);
    expect(result.started[0]).toMatchObject({ logArguments: true });
    expect(result.code).toBeUndefined();
    result.signals.get("SIGTERM")!();
    await new Promise((resolve) => setImmediate(resolve));
    expect([result.closed, result.code]).toEqual([1, 0]);
    result.signals.get("SIGINT")!();
    expect(result.code).toBe(1);
  });

  it("a start failure (port in use) is one line and exit 1", async () => {
    const result = await run("--upstream", "http://127.0.0.1:8080/mcp", "--policy", policy, "--listen", "127.0.0.1:1");
    expect(result.code).toBe(1);
    expect(result.stderr).toEqual(["mcp-warden sidecar: listen EADDRINUSE: address already in use 127.0.0.1:1"]);
  });
});
