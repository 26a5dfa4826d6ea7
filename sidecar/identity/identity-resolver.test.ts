import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import type { IdentitySpec } from "../../policy/index.ts";
import type { IdentityResolver } from "../contracts.ts";
import { createIdentityResolver } from "./identity-resolver.ts";

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" } };
}

/** A JWKS endpoint whose key list a test can change; counts fetches. */
let jwksServer: Server;
let jwksUri: string;
let published: SigningKey[] = [];
let fetches = 0;

beforeAll(async () => {
  jwksServer = createServer((req, res) => {
    fetches++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: published.map((key) => key.jwk) }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
  jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(async () => {
  jwksServer.closeAllConnections();
  await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
});

const ISSUER = "https://issuer.example";
const jwtSpec = (): IdentitySpec => ({ source: "jwt", jwt: { issuer: ISSUER, audiences: ["mcp-warden", "other"], jwksUri } });

async function token(key: SigningKey, claims: { iss?: string; aud?: string; exp?: number | string; sub?: string; team?: string } = {}): Promise<string> {
  const jwt = new SignJWT({ ...(claims.team === undefined ? {} : { team: claims.team }) })
    .setProtectedHeader({ alg: "ES256", kid: key.kid })
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? "mcp-warden")
    .setIssuedAt()
    .setExpirationTime(claims.exp ?? "5m");
  if (claims.sub !== "") jwt.setSubject(claims.sub ?? "agent-7");
  return jwt.sign(key.privateKey);
}

const bearer = (value: string): Record<string, string> => ({ authorization: `Bearer ${value}` });

describe("jwt identity", () => {
  let resolver: IdentityResolver;
  let key: SigningKey;

  beforeEach(async () => {
    key = await signingKey("k1");
    published = [key];
    fetches = 0;
    resolver = createIdentityResolver({ cooldownMs: 0 });
  });

  it("accepts a valid token and names the caller by sub, exposing the claims", async () => {
    const outcome = await resolver.resolve(jwtSpec(), bearer(await token(key, { team: "qa" })), "s1");
    expect(outcome).toMatchObject({ ok: true, identity: { id: "agent-7", claims: { sub: "agent-7", team: "qa", iss: ISSUER } } });
  });

  it("names the caller by the configured claim, and refuses a token without it", async () => {
    const spec: IdentitySpec = { source: "jwt", jwt: { ...jwtSpec().jwt!, claim: "team" } };
    expect(await resolver.resolve(spec, bearer(await token(key, { team: "qa" })), "")).toMatchObject({ ok: true, identity: { id: "qa" } });
    const without = await resolver.resolve(spec, bearer(await token(key)), "");
    expect(without).toMatchObject({ ok: false, message: 'the token has no "team" claim naming the caller' });
  });

  it("accepts any of the audiences", async () => {
    expect(await resolver.resolve(jwtSpec(), bearer(await token(key, { aud: "other" })), "")).toMatchObject({ ok: true });
  });

  it("keys are fetched once and cached", async () => {
    for (let i = 0; i < 3; i++) expect((await resolver.resolve(jwtSpec(), bearer(await token(key)), "")).ok).toBe(true);
    expect(fetches).toBe(1);
  });

  it.each([
    ["expired", () => token(key, { exp: Math.floor(Date.now() / 1000) - 60 }), "the token has expired"],
    ["wrong issuer", () => token(key, { iss: "https://evil.example" }), "the token's iss claim is not accepted"],
    ["wrong audience", () => token(key, { aud: "someone-else" }), "the token's aud claim is not accepted"],
    ["signed by another key with the same kid", async () => token(await signingKey("k1")), "the token's signature does not verify"],
    ["signed by an unknown key", async () => token(await signingKey("k-unknown")), "the token is not signed by a key of the issuer's key set"],
    ["not a JWT", async () => "not.a.jwt", "the token is not a well-formed JWT"],
  ])("refuses a token that is %s with 401 invalid_token", async (_name, make, message) => {
    const outcome = await resolver.resolve(jwtSpec(), bearer(await make()), "");
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.message).toContain(message);
    expect(outcome.wwwAuthenticate).toMatch(/^Bearer realm="mcp-warden", error="invalid_token", error_description="[^"]+"$/);
  });

  it("tolerates a few seconds of clock difference, not more", async () => {
    const justExpired = await token(key, { exp: Math.floor(Date.now() / 1000) - 2 });
    expect((await resolver.resolve(jwtSpec(), bearer(justExpired), "")).ok).toBe(true);
    const longExpired = await token(key, { exp: Math.floor(Date.now() / 1000) - 30 });
    expect((await resolver.resolve(jwtSpec(), bearer(longExpired), "")).ok).toBe(false);
  });

  it("refuses a request without a token with a bare Bearer challenge (RFC 6750 §3.1)", async () => {
    expect(await resolver.resolve(jwtSpec(), {}, "s1")).toEqual({ ok: false, wwwAuthenticate: 'Bearer realm="mcp-warden"', message: "the request has no bearer token" });
    const basic = await resolver.resolve(jwtSpec(), { authorization: "Basic dXNlcjpwYXNz" }, "s1");
    expect(basic).toMatchObject({ ok: false, wwwAuthenticate: expect.stringContaining('error="invalid_token"') });
  });

  it("refetches the key set when a token names a new key (rotation)", async () => {
    expect((await resolver.resolve(jwtSpec(), bearer(await token(key)), "")).ok).toBe(true);
    const rotated = await signingKey("k2");
    published = [rotated];
    expect(await resolver.resolve(jwtSpec(), bearer(await token(rotated)), "")).toMatchObject({ ok: true, identity: { id: "agent-7" } });
    expect(fetches).toBe(2);
    // The old key has left the set: its tokens no longer verify once the set is refreshed.
    const old = await resolver.resolve(jwtSpec(), bearer(await token(key)), "");
    expect(old).toMatchObject({ ok: false });
  });

  it("within the cooldown an unknown key does not trigger another fetch", async () => {
    const cooling = createIdentityResolver({ cooldownMs: 60_000 });
    expect((await cooling.resolve(jwtSpec(), bearer(await token(key)), "")).ok).toBe(true);
    const stranger = await signingKey("k-stranger");
    for (let i = 0; i < 5; i++) expect((await cooling.resolve(jwtSpec(), bearer(await token(stranger)), "")).ok).toBe(false);
    expect(fetches).toBe(1);
  });

  it("remembers a verified token until its expiry, and no longer than verifiedCacheMs", async () => {
    let now = Date.now();
    // cacheMaxAgeMs 0: jose fetches the keys for every signature it checks, so fetches count checks.
    const remembering = createIdentityResolver({ cooldownMs: 0, cacheMaxAgeMs: 0, nowMs: () => now, verifiedCacheMs: 10_000 });
    const shortLived = await token(key, { exp: Math.floor(now / 1000) + 5 });
    const longLived = await token(key);
    expect((await remembering.resolve(jwtSpec(), bearer(shortLived), "")).ok).toBe(true);
    expect((await remembering.resolve(jwtSpec(), bearer(longLived), "")).ok).toBe(true);
    const checks = fetches;
    // The issuer drops the key: a remembered token passes without a new check...
    published = [];
    expect(await remembering.resolve(jwtSpec(), bearer(longLived), "")).toMatchObject({ ok: true, identity: { id: "agent-7" } });
    expect(fetches).toBe(checks);
    // ...but not past its expiry...
    now += 6_000;
    expect((await remembering.resolve(jwtSpec(), bearer(shortLived), "")).ok).toBe(false);
    expect((await remembering.resolve(jwtSpec(), bearer(longLived), "")).ok).toBe(true);
    // ...nor past verifiedCacheMs: then it is checked again, against the keys of now.
    now += 5_000;
    expect((await remembering.resolve(jwtSpec(), bearer(longLived), "")).ok).toBe(false);
  });

  it("remembers per policy setting: another audience verifies afresh", async () => {
    const remembering = createIdentityResolver({ cooldownMs: 0 });
    const signed = await token(key);
    expect((await remembering.resolve(jwtSpec(), bearer(signed), "")).ok).toBe(true);
    const strict: IdentitySpec = { source: "jwt", jwt: { ...jwtSpec().jwt!, audiences: ["only-this"] } };
    expect(await remembering.resolve(strict, bearer(signed), "")).toMatchObject({ ok: false, message: expect.stringContaining("aud") });
  });

  it("refuses (never admits) when the key set cannot be fetched, and reports it", async () => {
    const errors: string[] = [];
    const unreachable = createIdentityResolver({ fetchTimeoutMs: 500, onKeySetError: (uri) => errors.push(uri) });
    const spec: IdentitySpec = { source: "jwt", jwt: { ...jwtSpec().jwt!, jwksUri: "http://127.0.0.1:1/jwks.json" } };
    const outcome = await unreachable.resolve(spec, bearer(await token(key)), "");
    expect(outcome).toMatchObject({ ok: false, message: "the issuer's key set could not be fetched" });
    expect(errors).toEqual(["http://127.0.0.1:1/jwks.json"]);
  });
});

describe("header, session and none identities", () => {
  const resolver = createIdentityResolver();
  const headerSpec: IdentitySpec = { source: "header", header: "X-Agent-Id" };

  it("header: the trusted header's value names the caller", async () => {
    expect(await resolver.resolve(headerSpec, { "x-agent-id": "agent-1" }, "s")).toEqual({ ok: true, identity: { id: "agent-1" } });
  });

  it.each([
    ["missing", {}],
    ["empty", { "x-agent-id": "  " }],
    ["repeated", { "x-agent-id": "a, b" }],
    ["too long", { "x-agent-id": "a".repeat(2000) }],
  ])("header: %s is refused with 401", async (_name, headers) => {
    const outcome = await resolver.resolve(headerSpec, headers, "s");
    expect(outcome).toMatchObject({ ok: false, wwwAuthenticate: expect.stringMatching(/^MCPWardenHeader realm="mcp-warden", header="x-agent-id"/) });
  });

  it("session: the MCP session id names the caller", async () => {
    expect(await resolver.resolve({ source: "session" }, {}, "session-9")).toEqual({ ok: true, identity: { id: "session-9" } });
  });

  it("none: every caller is one grant, even with a token", async () => {
    expect(await resolver.resolve({ source: "none" }, bearer("whatever"), "s")).toEqual({ ok: true, identity: { id: "" } });
  });
});
