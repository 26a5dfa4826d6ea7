// What each identity source needs, and the formats of its fields.

import type { IdentitySpec } from "./model.ts";
import { fieldPath, indexPath, quoteValue, type PolicyProblem } from "./problems.ts";

const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
const CLAIM = /^[^\s]{1,256}$/;

export function identityProblems(identity: IdentitySpec, path: string): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const add = (at: string, message: string): void => void problems.push({ path: at, message });
  const { source, header, jwt } = identity;
  if (source === "header") {
    if (header === undefined) add(fieldPath(path, "header"), "is required with source: header (the request header naming the caller)");
    else if (!HTTP_TOKEN.test(header)) add(fieldPath(path, "header"), `${quoteValue(header)} is not an HTTP header name`);
  } else if (header !== undefined) {
    add(fieldPath(path, "header"), `is only used with source: header (source is ${source})`);
  }
  if (source === "jwt") {
    if (jwt === undefined) {
      add(fieldPath(path, "jwt"), "is required with source: jwt ({issuer, audiences, jwksUri, claim})");
    } else {
      const jwtPath = fieldPath(path, "jwt");
      if (jwt.issuer.trim() === "") add(fieldPath(jwtPath, "issuer"), "must not be empty");
      if (jwt.audiences.length === 0) add(fieldPath(jwtPath, "audiences"), "must name at least one audience");
      jwt.audiences.forEach((audience, index) => {
        if (audience.trim() === "") add(indexPath(fieldPath(jwtPath, "audiences"), index), "must not be empty");
      });
      const uriProblem = jwksUriProblem(jwt.jwksUri);
      if (uriProblem !== undefined) add(fieldPath(jwtPath, "jwksUri"), uriProblem);
      if (jwt.claim !== undefined && !CLAIM.test(jwt.claim)) {
        add(fieldPath(jwtPath, "claim"), `${quoteValue(jwt.claim)} is not a claim name`);
      }
    }
  } else if (jwt !== undefined) {
    add(fieldPath(path, "jwt"), `is only used with source: jwt (source is ${source})`);
  }
  return problems;
}

/** http(s) as the CRD allows: an in-cluster issuer is often plain HTTP behind a Service. */
function jwksUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `${quoteValue(uri)} is not a URL`;
  }
  if (url.protocol === "https:" || url.protocol === "http:") return undefined;
  return `${quoteValue(uri)} must be an http:// or https:// URL`;
}

/** The identity as a comparable string: header names are case-insensitive, audience order is irrelevant. */
export function identityFingerprint(identity: IdentitySpec): string {
  return JSON.stringify({
    source: identity.source,
    header: identity.source === "header" ? identity.header?.toLowerCase() : undefined,
    jwt:
      identity.source === "jwt" && identity.jwt !== undefined
        ? {
            issuer: identity.jwt.issuer,
            audiences: [...new Set(identity.jwt.audiences)].sort(),
            jwksUri: identity.jwt.jwksUri,
            claim: identity.jwt.claim ?? "sub",
          }
        : undefined,
  });
}

export function describeIdentity(identity: IdentitySpec): string {
  if (identity.source === "header") return `source: header (${identity.header ?? "?"})`;
  if (identity.source === "jwt") return `source: jwt (issuer ${identity.jwt?.issuer ?? "?"}, claim ${identity.jwt?.claim ?? "sub"})`;
  return `source: ${identity.source}`;
}
