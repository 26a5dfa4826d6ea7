// The bearer token of a request (RFC 6750 §2.1: `Authorization: Bearer <token>`). Only
// the header is read: tokens in query strings end up in access logs.

import type { IncomingHttpHeaders } from "node:http";

/** Far above any real JWT; a larger header is refused before any parsing. */
const MAX_TOKEN_LENGTH = 16 * 1024;

export type BearerToken = { ok: true; token: string } | { ok: false; missing: boolean; message: string };

export function bearerToken(headers: IncomingHttpHeaders): BearerToken {
  const value = headers.authorization;
  if (value === undefined || value === "") return { ok: false, missing: true, message: "the request has no bearer token" };
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(value);
  if (match === null) return { ok: false, missing: false, message: "the Authorization header is not a Bearer token" };
  const token = match[1] as string;
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, missing: false, message: `the token is longer than ${MAX_TOKEN_LENGTH} characters` };
  return { ok: true, token };
}
