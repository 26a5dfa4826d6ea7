// Structural reading of `spec.identity`; which fields each source needs, and their
// formats, are checked by identityProblems when the policy is compiled.

import { checkKnownKeys, readArray, readOneOf, readRecord, readString, type ProblemCollector } from "./document-fields.ts";
import { IDENTITY_SOURCES, type IdentitySpec, type JwtIdentitySpec } from "./model.ts";
import { fieldPath, indexPath } from "./problems.ts";

export function readIdentity(value: unknown, path: string, out: ProblemCollector): IdentitySpec | undefined {
  const record = readRecord(value, path, out);
  if (record === undefined) return undefined;
  checkKnownKeys(record, ["source", "header", "jwt"], path, out);
  const before = out.count;
  const source = readOneOf(record["source"], IDENTITY_SOURCES, fieldPath(path, "source"), out);
  const identity: Partial<IdentitySpec> = {};
  if (source !== undefined) identity.source = source;
  if (record["header"] !== undefined) {
    const header = readString(record["header"], fieldPath(path, "header"), out);
    if (header !== undefined) identity.header = header;
  }
  if (record["jwt"] !== undefined) {
    const jwt = readJwt(record["jwt"], fieldPath(path, "jwt"), out);
    if (jwt !== undefined) identity.jwt = jwt;
  }
  return out.count > before ? undefined : (identity as IdentitySpec);
}

function readJwt(value: unknown, path: string, out: ProblemCollector): JwtIdentitySpec | undefined {
  const record = readRecord(value, path, out);
  if (record === undefined) return undefined;
  checkKnownKeys(record, ["issuer", "audiences", "jwksUri", "claim"], path, out, {
    audience: "write audiences: [...]",
    jwks_uri: "write jwksUri",
    jwksUrl: "write jwksUri",
  });
  const before = out.count;
  const issuer = readString(record["issuer"], fieldPath(path, "issuer"), out);
  const jwksUri = readString(record["jwksUri"], fieldPath(path, "jwksUri"), out);
  const audiencesPath = fieldPath(path, "audiences");
  const audienceList = readArray(record["audiences"], audiencesPath, out);
  const audiences: string[] = [];
  audienceList?.forEach((audience, index) => {
    const text = readString(audience, indexPath(audiencesPath, index), out);
    if (text !== undefined) audiences.push(text);
  });
  const claim = record["claim"] === undefined ? undefined : readString(record["claim"], fieldPath(path, "claim"), out);
  if (out.count > before || issuer === undefined || jwksUri === undefined) return undefined;
  const jwt: JwtIdentitySpec = { issuer, audiences, jwksUri };
  if (claim !== undefined) jwt.claim = claim;
  return jwt;
}
