// Verifies bearer JWTs against the policy's JWKS with jose. One remote key set per JWKS
// URL is kept across calls (and across policy reloads that keep the URL): jose caches
// its keys, refetches them when a token names a key it does not know (at most once per
// cooldown, so random `kid`s cannot make us hammer the issuer) and when they are older
// than the cache's maximum age.

import { createHash } from "node:crypto";
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type RemoteJWKSet } from "jose";
import type { JwtIdentitySpec } from "../../policy/index.ts";

export interface JwtVerifierOptions {
  /** Allowed clock difference with the issuer for exp/nbf/iat. Default 5 s. */
  clockToleranceSeconds?: number;
  /** How long a fetch of the key set may take. Default 5 s. */
  fetchTimeoutMs?: number;
  /** Minimum time between two fetches triggered by unknown keys. Default 10 s. */
  cooldownMs?: number;
  /** Keys are refetched when older than this. Default 10 min. */
  cacheMaxAgeMs?: number;
  /** The clock, for tests. */
  nowMs?: () => number;
  /** The key set could not be fetched (the caller is refused; this is for logs). */
  onKeySetError?: (jwksUri: string, error: Error) => void;
  /**
   * A verified token is trusted again without checking its signature for at most this
   * long, and never past its `exp`. Default 60 s (keys themselves are kept up to
   * `cacheMaxAgeMs`, so this adds at most a minute to a removed key's life). 0: off.
   */
  verifiedCacheMs?: number;
}

export type JwtVerification =
  | { ok: true; id: string; claims: Readonly<Record<string, unknown>> }
  | { ok: false; message: string };

/** More distinct JWKS URLs than policies would ever name; the oldest is forgotten. */
const MAX_KEY_SETS = 16;
/** Verified tokens remembered (by digest: tokens can be 16 KiB); the oldest is forgotten. */
const MAX_VERIFIED_TOKENS = 10_000;

interface VerifiedToken {
  readonly result: JwtVerification & { ok: true };
  readonly validUntilMs: number;
}

/**
 * Verifying an ES256 signature costs ~0.2 ms, paid by every request of a session (each
 * POST carries the token). A verified token is therefore remembered, keyed by the policy's
 * JWT settings and the token's SHA-256, until its expiry or `verifiedCacheMs`, whichever
 * comes first. Failures are not remembered.
 */
export class JwtVerifier {
  readonly #options: JwtVerifierOptions;
  readonly #keySets = new Map<string, RemoteJWKSet>();
  readonly #verified = new Map<string, VerifiedToken>();
  readonly #settings = new WeakMap<JwtIdentitySpec, string>();
  readonly #cacheMs: number;

  constructor(options: JwtVerifierOptions = {}) {
    this.#options = options;
    this.#cacheMs = options.verifiedCacheMs ?? 60_000;
  }

  async verify(token: string, spec: JwtIdentitySpec): Promise<JwtVerification> {
    if (this.#cacheMs <= 0) return this.#verify(token, spec);
    const nowMs = this.#options.nowMs?.() ?? Date.now();
    const key = `${this.#settingsKey(spec)}\n${createHash("sha256").update(token).digest("base64")}`;
    const known = this.#verified.get(key);
    if (known !== undefined && nowMs < known.validUntilMs) return known.result;
    if (known !== undefined) this.#verified.delete(key);
    const result = await this.#verify(token, spec);
    if (result.ok) {
      const exp = result.claims["exp"];
      const validUntilMs = Math.min(nowMs + this.#cacheMs, typeof exp === "number" ? exp * 1000 : nowMs);
      if (this.#verified.size >= MAX_VERIFIED_TOKENS) this.#verified.delete(this.#verified.keys().next().value as string);
      this.#verified.set(key, { result, validUntilMs });
    }
    return result;
  }

  #settingsKey(spec: JwtIdentitySpec): string {
    let key = this.#settings.get(spec);
    if (key === undefined) {
      key = JSON.stringify([spec.issuer, spec.audiences, spec.jwksUri, spec.claim ?? "sub"]);
      this.#settings.set(spec, key);
    }
    return key;
  }

  async #verify(token: string, spec: JwtIdentitySpec): Promise<JwtVerification> {
    const keySet = this.#keySet(spec.jwksUri);
    if (keySet === undefined) return { ok: false, message: "the policy's jwksUri is not a valid URL" };
    let payload: JWTPayload;
    try {
      const now = this.#options.nowMs?.();
      ({ payload } = await jwtVerify(token, keySet, {
        issuer: spec.issuer,
        audience: spec.audiences,
        clockTolerance: this.#options.clockToleranceSeconds ?? 5,
        // A token without an expiry would be valid forever.
        requiredClaims: ["exp"],
        ...(now === undefined ? {} : { currentDate: new Date(now) }),
      }));
    } catch (error) {
      return { ok: false, message: this.#describe(error, spec.jwksUri) };
    }
    const claim = spec.claim ?? "sub";
    const id = payload[claim];
    if (typeof id !== "string" || id === "") return { ok: false, message: `the token has no "${claim}" claim naming the caller` };
    return { ok: true, id, claims: Object.freeze(payload) };
  }

  #keySet(jwksUri: string): RemoteJWKSet | undefined {
    let keySet = this.#keySets.get(jwksUri);
    if (keySet !== undefined) return keySet;
    let url: URL;
    try {
      url = new URL(jwksUri);
    } catch {
      return undefined;
    }
    keySet = createRemoteJWKSet(url, {
      timeoutDuration: this.#options.fetchTimeoutMs ?? 5_000,
      cooldownDuration: this.#options.cooldownMs ?? 10_000,
      cacheMaxAge: this.#options.cacheMaxAgeMs ?? 600_000,
    });
    if (this.#keySets.size >= MAX_KEY_SETS) this.#keySets.delete(this.#keySets.keys().next().value as string);
    this.#keySets.set(jwksUri, keySet);
    return keySet;
  }

  /** jose's messages name the failed check and never the token; fetch failures are ours, not the caller's. */
  #describe(error: unknown, jwksUri: string): string {
    if (error instanceof errors.JWTExpired) return "the token has expired";
    if (error instanceof errors.JWTClaimValidationFailed) return `the token's ${error.claim} claim is not accepted (${error.reason})`;
    if (error instanceof errors.JWKSNoMatchingKey) return "the token is not signed by a key of the issuer's key set";
    if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
    if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || !(error instanceof errors.JOSEError)) {
      this.#options.onKeySetError?.(jwksUri, error instanceof Error ? error : new Error(String(error)));
      return "the issuer's key set could not be fetched";
    }
    if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return "the token is not a well-formed JWT";
    if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return "the token's algorithm is not accepted";
    return `the token is not valid (${error.code})`;
  }
}
