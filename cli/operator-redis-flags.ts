// The operator's --sidecar-redis-* flags: what injected sidecars get as --redis and
// --rate-limit-failure-mode. Checked before the operator starts, so a typo in the chart's
// values is one error line and exit 2, not pods that crash-loop on a bad --redis.
import type { SidecarRedis } from "../operator/injection/index.ts";
import { RATE_LIMIT_FAILURE_MODES, type RateLimitFailureMode } from "../protocol/index.ts";

export interface SidecarRedisFlags {
  sidecarRedisUrl?: string;
  sidecarRedisSecret?: string;
  sidecarRateLimitFailureMode?: string;
}

export type SidecarRedisRead = { ok: true; redis: SidecarRedis | undefined } | { ok: false; message: string };

const DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
/** A Secret's name: a DNS-1123 subdomain. */
const SECRET_NAME = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);
/** A Secret's data key (Kubernetes IsConfigMapKey). */
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const HOSTNAME = /^([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+$|^\[[0-9A-Fa-f:.]+\]$/;

export function sidecarRedisFromFlags(flags: SidecarRedisFlags): SidecarRedisRead {
  const { sidecarRedisUrl: url, sidecarRedisSecret: secret } = flags;
  if (url !== undefined && secret !== undefined) {
    return { ok: false, message: "give --sidecar-redis-url or --sidecar-redis-secret, not both (the Secret is for a URL with credentials)" };
  }
  const mode = flags.sidecarRateLimitFailureMode;
  if (mode !== undefined && !(RATE_LIMIT_FAILURE_MODES as readonly string[]).includes(mode)) {
    return { ok: false, message: `--sidecar-rate-limit-failure-mode must be one of ${RATE_LIMIT_FAILURE_MODES.join(", ")}, got ${JSON.stringify(mode)}` };
  }
  if (url === undefined && secret === undefined) {
    if (mode !== undefined) return { ok: false, message: "--sidecar-rate-limit-failure-mode needs --sidecar-redis-url or --sidecar-redis-secret" };
    return { ok: true, redis: undefined };
  }
  const failureMode = (mode ?? "local") as RateLimitFailureMode;
  if (url !== undefined) {
    const problem = redisUrlProblem(url);
    return problem === undefined ? { ok: true, redis: { url, failureMode } } : { ok: false, message: `--sidecar-redis-url ${problem}` };
  }
  const [name = "", key = "", ...rest] = (secret as string).split("/");
  if (rest.length > 0 || !SECRET_NAME.test(name) || name.length > 253) {
    return { ok: false, message: `--sidecar-redis-secret must be NAME/KEY with NAME a Secret's name (lowercase DNS-1123, e.g. mcp-warden-redis/url), got ${JSON.stringify(secret)}` };
  }
  if (!SECRET_KEY.test(key) || key.length > 253 || key === "." || key.startsWith("..")) {
    return { ok: false, message: `--sidecar-redis-secret: ${JSON.stringify(key)} is not a Secret key (letters, digits, '-', '_', '.'; not . or ..)` };
  }
  return { ok: true, redis: { secret: { name, key }, failureMode } };
}

/** Why `text` cannot go into every injected pod's spec as --redis, or undefined. */
function redisUrlProblem(text: string): string | undefined {
  const url = URL.parse(text);
  if (url === null || (url.protocol !== "redis:" && url.protocol !== "rediss:") || !HOSTNAME.test(url.hostname)) {
    return `must be a redis:// or rediss:// URL such as redis://redis.cache.svc:6379, got ${JSON.stringify(text)}`;
  }
  if (url.username !== "" || url.password !== "") {
    return "must not carry credentials: they would be readable in every injected pod's spec; put the URL in a Secret and give --sidecar-redis-secret NAME/KEY";
  }
  if (!/^\/?\d*$/.test(url.pathname) || url.search !== "" || url.hash !== "") {
    return `may name a database number (redis://HOST:PORT/0) and nothing else, got ${JSON.stringify(text)}`;
  }
  return undefined;
}
