// Who is calling, under the policy's `identity` (ARCHITECTURE.md): a verified JWT, a
// header set by a trusted gateway, the MCP session, or nobody in particular. Where a
// credential is required and missing or invalid the answer is a refusal, never an
// anonymous identity.

import type { IncomingHttpHeaders } from "node:http";
import type { IdentitySpec } from "../../policy/index.ts";
import type { IdentityOutcome, IdentityResolver } from "../contracts.ts";
import { bearerToken } from "./bearer-token.ts";
import type { JwtVerifier, JwtVerifierOptions } from "./jwt-verifier.ts";
import { bearerChallengeWithoutToken, headerChallenge, invalidTokenChallenge } from "./www-authenticate.ts";

/** Caller ids become parts of rate-limit keys; a longer header value is refused. */
const MAX_HEADER_IDENTITY_LENGTH = 1024;

const NOBODY: IdentityOutcome = Object.freeze({ ok: true, identity: Object.freeze({ id: "" }) });

export type IdentityResolverOptions = JwtVerifierOptions;

export function createIdentityResolver(options: IdentityResolverOptions = {}): IdentityResolver {
  // JWT verification (jose) is loaded when a policy first asks for it: most sidecars never do.
  let verifier: Promise<JwtVerifier> | undefined;
  const jwtVerifier = (): Promise<JwtVerifier> => (verifier ??= import("./jwt-verifier.ts").then(({ JwtVerifier }) => new JwtVerifier(options)));
  return {
    async resolve(spec: IdentitySpec, headers: IncomingHttpHeaders, sessionId: string): Promise<IdentityOutcome> {
      switch (spec.source) {
        case "none":
          return NOBODY;
        case "session":
          // A sessionless request (initialize, or a stateless server) is the grant "".
          return { ok: true, identity: { id: sessionId } };
        case "header":
          return fromHeader(spec.header, headers);
        case "jwt":
          return fromJwt(await jwtVerifier(), spec, headers);
        default:
          spec.source satisfies never;
          return refuse(invalidTokenChallenge("unknown identity source"), "the policy names an unknown identity source");
      }
    },
  };
}

function fromHeader(name: string | undefined, headers: IncomingHttpHeaders): IdentityOutcome {
  if (name === undefined || name === "") return refuse(headerChallenge("", "no identity header configured"), "the policy's identity names no header");
  const header = name.toLowerCase();
  const raw = headers[header];
  // Node joins repeated custom headers with ", ": two values cannot name one caller.
  const value = Array.isArray(raw) ? undefined : raw?.trim();
  if (value === undefined || value === "") return refuse(headerChallenge(header, `the request has no ${header} header`), `missing ${header} header`);
  if (Array.isArray(raw) || value.includes(",")) return refuse(headerChallenge(header, `the ${header} header has several values`), `several ${header} values`);
  if (value.length > MAX_HEADER_IDENTITY_LENGTH) return refuse(headerChallenge(header, `the ${header} header is too long`), `${header} header too long`);
  return { ok: true, identity: { id: value } };
}

async function fromJwt(verifier: JwtVerifier, spec: IdentitySpec, headers: IncomingHttpHeaders): Promise<IdentityOutcome> {
  if (spec.jwt === undefined) return refuse(invalidTokenChallenge("no JWT settings"), "the policy's identity has no jwt settings");
  const token = bearerToken(headers);
  if (!token.ok) return refuse(token.missing ? bearerChallengeWithoutToken() : invalidTokenChallenge(token.message), token.message);
  const verified = await verifier.verify(token.token, spec.jwt);
  if (!verified.ok) return refuse(invalidTokenChallenge(verified.message), verified.message);
  return { ok: true, identity: { id: verified.id, claims: verified.claims } };
}

function refuse(wwwAuthenticate: string, message: string): IdentityOutcome {
  return { ok: false, wwwAuthenticate, message };
}
