// What a sidecar does while the shared (Redis) rate-limit store is unreachable: the
// operator's `--sidecar-rate-limit-failure-mode` passes it on to every injected sidecar's
// `--rate-limit-failure-mode`. `local`: count in memory; `deny`: refuse limited calls;
// `allow`: admit them uncounted (sidecar/ratelimit/README.md).

export const RATE_LIMIT_FAILURE_MODES = ["local", "deny", "allow"] as const;
export type RateLimitFailureMode = (typeof RATE_LIMIT_FAILURE_MODES)[number];
