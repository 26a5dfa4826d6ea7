import { Command, CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { registerOperatorCommand } from "./operator-command.ts";
import { sidecarRedisFromFlags } from "./operator-redis-flags.ts";

describe("sidecarRedisFromFlags", () => {
  it("without Redis flags, injected sidecars count in memory", () => {
    expect(sidecarRedisFromFlags({})).toEqual({ ok: true, redis: undefined });
  });

  it.each([
    [{ sidecarRedisUrl: "redis://redis.cache.svc:6379" }, { url: "redis://redis.cache.svc:6379", failureMode: "local" }],
    [{ sidecarRedisUrl: "rediss://10.0.0.7:6380/3", sidecarRateLimitFailureMode: "deny" }, { url: "rediss://10.0.0.7:6380/3", failureMode: "deny" }],
    [{ sidecarRedisUrl: "redis://[fd00::7]:6379" }, { url: "redis://[fd00::7]:6379", failureMode: "local" }],
    [{ sidecarRedisSecret: "mcp-warden-redis/url" }, { secret: { name: "mcp-warden-redis", key: "url" }, failureMode: "local" }],
    [{ sidecarRedisSecret: "redis.credentials/REDIS_URL.v2", sidecarRateLimitFailureMode: "allow" }, { secret: { name: "redis.credentials", key: "REDIS_URL.v2" }, failureMode: "allow" }],
  ])("accepts %j", (flags, redis) => {
    expect(sidecarRedisFromFlags(flags)).toEqual({ ok: true, redis });
  });

  it.each([
    [{ sidecarRedisUrl: "redis://a:6379", sidecarRedisSecret: "s/url" }, "give --sidecar-redis-url or --sidecar-redis-secret, not both"],
    [{ sidecarRateLimitFailureMode: "deny" }, "--sidecar-rate-limit-failure-mode needs --sidecar-redis-url or --sidecar-redis-secret"],
    [{ sidecarRedisUrl: "redis://a:6379", sidecarRateLimitFailureMode: "open" }, '--sidecar-rate-limit-failure-mode must be one of local, deny, allow, got "open"'],
    [{ sidecarRedisUrl: "http://redis:6379" }, '--sidecar-redis-url must be a redis:// or rediss:// URL such as redis://redis.cache.svc:6379, got "http://redis:6379"'],
    [{ sidecarRedisUrl: "redis.cache.svc:6379" }, "--sidecar-redis-url must be a redis:// or rediss:// URL"],
    [{ sidecarRedisUrl: "redis://" }, "--sidecar-redis-url must be a redis:// or rediss:// URL"],
    [{ sidecarRedisUrl: "redis://$(HOST):6379" }, "--sidecar-redis-url must be a redis:// or rediss:// URL"],
    [{ sidecarRedisUrl: "redis://:hunter2@redis:6379" }, "--sidecar-redis-url must not carry credentials: they would be readable in every injected pod's spec"],
    [{ sidecarRedisUrl: "redis://default:hunter2@redis:6379" }, "give --sidecar-redis-secret NAME/KEY"],
    [{ sidecarRedisUrl: "redis://redis:6379/cache" }, "--sidecar-redis-url may name a database number (redis://HOST:PORT/0) and nothing else"],
    [{ sidecarRedisUrl: "redis://redis:6379?db=1" }, "--sidecar-redis-url may name a database number"],
    [{ sidecarRedisSecret: "mcp-warden-redis" }, '--sidecar-redis-secret: "" is not a Secret key'],
    [{ sidecarRedisSecret: "Redis/url" }, '--sidecar-redis-secret must be NAME/KEY with NAME a Secret\'s name (lowercase DNS-1123, e.g. mcp-warden-redis/url), got "Redis/url"'],
    [{ sidecarRedisSecret: "-redis/url" }, "--sidecar-redis-secret must be NAME/KEY"],
    [{ sidecarRedisSecret: `${"a".repeat(254)}/url` }, "--sidecar-redis-secret must be NAME/KEY"],
    [{ sidecarRedisSecret: "ns/redis/url" }, "--sidecar-redis-secret must be NAME/KEY"],
    [{ sidecarRedisSecret: "redis/url key" }, '--sidecar-redis-secret: "url key" is not a Secret key'],
    [{ sidecarRedisSecret: "redis/.." }, '--sidecar-redis-secret: ".." is not a Secret key'],
    [{ sidecarRedisSecret: "redis/..data" }, '--sidecar-redis-secret: "..data" is not a Secret key'],
  ])("refuses %j", (flags, message) => {
    const read = sidecarRedisFromFlags(flags);
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.message).toContain(message);
  });
});

describe("mcp-warden operator --sidecar-redis-*", () => {
  /** Exit code and stderr, as cli/main.ts turns a CommanderError into them. */
  async function run(...args: string[]): Promise<{ code: number; stderr: string }> {
    const stderr: string[] = [];
    const program = new Command("mcp-warden").exitOverride().configureOutput({ writeErr: (text) => void stderr.push(text.trimEnd()), writeOut: () => undefined });
    registerOperatorCommand(program);
    try {
      await program.parseAsync(["node", "mcp-warden", "operator", ...args]);
    } catch (error) {
      if (!(error instanceof CommanderError)) throw error;
      return { code: error.exitCode === 0 ? 0 : 2, stderr: stderr.join("\n") };
    }
    throw new Error("the operator started: these flags should have stopped it");
  }

  it("a URL and a Secret together are one error line and exit 2, before the operator connects anywhere", async () => {
    expect(await run("--sidecar-redis-url=redis://redis:6379", "--sidecar-redis-secret=mcp-warden-redis/url")).toEqual({
      code: 2,
      stderr: "error: give --sidecar-redis-url or --sidecar-redis-secret, not both (the Secret is for a URL with credentials)",
    });
  });

  it("a bad URL, Secret or failure mode exits 2 naming the flag", async () => {
    expect(await run("--sidecar-redis-url=redis://:pw@redis:6379")).toMatchObject({ code: 2, stderr: expect.stringContaining("error: --sidecar-redis-url must not carry credentials") });
    expect(await run("--sidecar-redis-secret=Redis/url")).toMatchObject({ code: 2, stderr: expect.stringContaining("error: --sidecar-redis-secret must be NAME/KEY") });
    expect(await run("--sidecar-redis-url=redis://redis:6379", "--sidecar-rate-limit-failure-mode=open")).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("argument 'open' is invalid. Allowed choices are local, deny, allow."),
    });
  });
});
