// The contract between the decision path (which says what a call needs) and the
// rate-limit stores in sidecar/ratelimit/ (which keep the sliding-window logs).

/** One limit a call must pass. A call's requests are admitted all-or-nothing. */
export interface RateLimitRequest {
  /**
   * The budget's identity, unambiguous by construction (see `rateLimitKey`): two
   * requests share a log exactly when their keys are equal.
   */
  key: string;
  /** The counter's name as written in the policy (for metrics and messages). */
  counter: string;
  /** Rolling window length in milliseconds. */
  windowMs: number;
  /** At most this many admitted calls in any rolling window. */
  max: number;
}

export type AdmitResult =
  | { admitted: true }
  | {
      admitted: false;
      /** The counter that refused (the one with the longest wait when several are full). */
      counter: string;
      /** max(1, ceil(oldest + window − now)) in seconds. */
      retryAfterSeconds: number;
      /**
       * `window_full`: a window already holds `max` admitted calls.
       * `capacity`: the store refused a new key because it holds its maximum number of keys.
       * `store_unavailable`: the shared store did not answer and `failureMode` is `deny`, or a
       * store failed unexpectedly (the limiter fails closed).
       * `invalid_request`: the requests break the contract (e.g. a window that is not a
       * positive whole number of milliseconds); refused rather than guessed at.
       */
      cause: "window_full" | "capacity" | "store_unavailable" | "invalid_request";
    };

/**
 * Keeps sliding-window logs. `admit` checks every request's window at `nowMs` and, only
 * if all have room, records the call in every one of them — atomically with respect to
 * other callers of the same store.
 */
export interface RateLimitStore {
  admit(requests: readonly RateLimitRequest[], nowMs: number): Promise<AdmitResult>;
  close?(): Promise<void>;
}

export type RateLimitScope = "grant" | "session" | "global";

/**
 * Builds a budget key that cannot collide: the parts are JSON-encoded as an array, so
 * no choice of names, identities or session ids can make two different budgets equal.
 * `namespace` is the policies' namespace ("" in standalone mode); `subject` is the
 * grant id, the session id, or "" for global scope.
 */
export function rateLimitKey(namespace: string, counter: string, scope: RateLimitScope, subject: string): string {
  return JSON.stringify([namespace, counter, scope, subject]);
}
