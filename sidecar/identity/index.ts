export { createIdentityResolver, MAX_HEADER_IDENTITY_LENGTH, type IdentityResolverOptions } from "./identity-resolver.ts";
export { JwtVerifier, type JwtVerifierOptions, type JwtVerification } from "./jwt-verifier.ts";
export { bearerToken, MAX_TOKEN_LENGTH, type BearerToken } from "./bearer-token.ts";
export { REALM, bearerChallengeWithoutToken, invalidTokenChallenge, headerChallenge } from "./www-authenticate.ts";
