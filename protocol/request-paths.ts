// Request paths as the sidecar reads them, and as the injector checks the paths an
// operator asks it to forward: what cannot be normalised one way is refused (a second
// parser could read it another way), and a forwarded prefix must already be normal.
// Pure: the sidecar's request routing (sidecar/proxy/intake/request-target.ts), the
// sidecar's --forward-path flag and the injector's annotation share these checks.

const BASE = "http://sidecar.invalid";

/**
 * A --forward-path value as it will be matched: an absolute path without a trailing
 * slash, itself normalisable. The error names what is wrong with it.
 */
export function normaliseForwardPrefix(value: string): { ok: true; prefix: string } | { ok: false; message: string } {
  if (!value.startsWith("/") || value.startsWith("//")) return { ok: false, message: `${JSON.stringify(value)} must be an absolute path such as /api` };
  if (value.includes("?") || value.includes("#")) return { ok: false, message: `${JSON.stringify(value)} must be a path without a query or fragment` };
  const problem = unnormalisable(value, value);
  if (problem !== undefined) return { ok: false, message: `${JSON.stringify(value)}: ${problem}` };
  const path = new URL(value, BASE).pathname;
  if (path !== value && path !== `${value}/`) return { ok: false, message: `${JSON.stringify(value)} is not normalised (it reads as ${JSON.stringify(path)})` };
  const prefix = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  return { ok: true, prefix };
}

/** Why `target` cannot be normalised one way, or undefined. */
export function unnormalisable(target: string, rawPath: string): string | undefined {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return "control characters are refused in the request target";
    if (c === 0x5c) return "backslashes are refused in the request target";
    if (c === 0x23) return "a fragment ('#') is refused in the request target";
    if (c > 0x7e) return "non-ASCII characters must be percent-encoded in the request target";
  }
  if (!rawPath.includes("%")) return undefined;
  for (const match of rawPath.matchAll(/%(..)?/g)) {
    const hex = match[1];
    if (hex === undefined || !/^[0-9A-Fa-f]{2}$/.test(hex)) return "a malformed percent-encoding is refused in the request path";
    const byte = Number.parseInt(hex, 16);
    if (byte === 0x2f || byte === 0x5c) return "encoded slashes and backslashes are refused in the request path";
    if (byte < 0x20 || byte === 0x7f) return "encoded control characters are refused in the request path";
  }
  for (const segment of rawPath.split("/")) {
    if (!segment.includes("%")) continue;
    const decoded = segment.replace(/%2e/gi, ".");
    if (decoded === "." || decoded === "..") return "encoded dot segments are refused in the request path";
  }
  return undefined;
}

