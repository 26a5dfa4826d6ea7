// Who is on the other end of a policy stream: the pod its projected ServiceAccount
// token is bound to. TokenReview (audience mcpwarden.dev) verifies the token; its extra
// claims name the pod; the pod must still exist with that uid and, by default, the
// connection must come from one of the pod's IPs — a token copied out of its pod is
// worth nothing elsewhere.
import { createHash } from "node:crypto";
import { isIPv4 } from "node:net";
import type { ClusterClient } from "../cluster.ts";
import type { Pod } from "../kube-objects.ts";
import { errorText, type OperatorLogger } from "../operator-logger.ts";
import { TOKEN_AUDIENCE } from "../../protocol/index.ts";
import { POD_NAME_CLAIM, POD_UID_CLAIM } from "../well-known.ts";

export interface BoundPod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly serviceAccount: string;
  /** The pod's labels when it was authenticated (a fallback while caches catch up). */
  readonly labels?: Readonly<Record<string, string>>;
}

export type AuthenticationResult = { ok: true; pod: BoundPod } | { ok: false; status: 401 | 403 | 503; message: string };

export interface StreamAuthenticator {
  authenticate(token: string, peerAddress: string | undefined): Promise<AuthenticationResult>;
}

export interface TokenReviewAuthenticatorOptions {
  client: ClusterClient;
  /** The pod from a cache, if it is there. */
  cachedPod: (namespace: string, name: string) => Pod | undefined;
  /** Refuse connections that do not come from the bound pod's IP (default true). */
  verifyPeerAddress?: boolean;
  /** How long a successful TokenReview is reused (never past the token's exp). Default 60 s. */
  reviewCacheMs?: number;
  logger: OperatorLogger;
}

const MAX_CACHED_REVIEWS = 20_000;

export class TokenReviewAuthenticator implements StreamAuthenticator {
  readonly #options: TokenReviewAuthenticatorOptions;
  readonly #reviews = new Map<string, { pod: BoundPod; expiresAtMs: number }>();

  constructor(options: TokenReviewAuthenticatorOptions) {
    this.#options = options;
  }

  async authenticate(token: string, peerAddress: string | undefined): Promise<AuthenticationResult> {
    const reviewed = await this.#review(token);
    if (!reviewed.ok) return reviewed;
    const bound = reviewed.pod;
    let pod = this.#options.cachedPod(bound.namespace, bound.name);
    const verifyPeer = this.#options.verifyPeerAddress !== false;
    // The cache may lag a pod that just started (no IP yet) or was replaced (another uid).
    if (pod === undefined || pod.metadata?.uid !== bound.uid || (verifyPeer && !fromPod(pod, peerAddress))) {
      try {
        pod = await this.#options.client.readPod(bound.namespace, bound.name);
      } catch (error) {
        return { ok: false, status: 503, message: `could not read the pod the token is bound to: ${errorText(error)}` };
      }
    }
    if (pod === undefined || pod.metadata?.uid !== bound.uid) {
      return { ok: false, status: 403, message: `the token is bound to pod ${bound.namespace}/${bound.name} (uid ${bound.uid}), which no longer exists` };
    }
    if (verifyPeer && !fromPod(pod, peerAddress)) {
      return { ok: false, status: 403, message: `the token is bound to pod ${bound.namespace}/${bound.name}, but the connection comes from ${normalise(peerAddress) ?? "an unknown address"}, not from that pod` };
    }
    return { ok: true, pod: { ...bound, labels: pod.metadata?.labels ?? {} } };
  }

  async #review(token: string): Promise<{ ok: true; pod: BoundPod } | { ok: false; status: 401 | 503; message: string }> {
    const key = createHash("sha256").update(token).digest("hex");
    const cached = this.#reviews.get(key);
    if (cached !== undefined && cached.expiresAtMs > Date.now()) return { ok: true, pod: cached.pod };
    this.#reviews.delete(key);
    let review;
    try {
      review = await this.#options.client.reviewToken(token, [TOKEN_AUDIENCE]);
    } catch (error) {
      return { ok: false, status: 503, message: `could not review the token: ${errorText(error)}` };
    }
    if (!review.authenticated) return { ok: false, status: 401, message: `the token was not accepted${review.error ? `: ${review.error}` : ""}` };
    if (review.audiences !== undefined && !review.audiences.includes(TOKEN_AUDIENCE)) {
      return { ok: false, status: 401, message: `the token is not for audience ${TOKEN_AUDIENCE}` };
    }
    const match = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(review.username ?? "");
    const name = review.extra?.[POD_NAME_CLAIM]?.[0];
    const uid = review.extra?.[POD_UID_CLAIM]?.[0];
    if (match === null || name === undefined || uid === undefined) {
      return { ok: false, status: 401, message: "the token is not a ServiceAccount token bound to a pod (use a projected token, audience mcpwarden.dev)" };
    }
    const pod: BoundPod = { namespace: match[1] as string, name, uid, serviceAccount: match[2] as string };
    const expiresAtMs = Math.min(Date.now() + (this.#options.reviewCacheMs ?? 60_000), tokenExpiryMs(token) ?? Number.POSITIVE_INFINITY);
    if (this.#reviews.size >= MAX_CACHED_REVIEWS) this.#reviews.clear();
    this.#reviews.set(key, { pod, expiresAtMs });
    return { ok: true, pod };
  }
}

function fromPod(pod: Pod, peerAddress: string | undefined): boolean {
  const peer = normalise(peerAddress);
  if (peer === undefined) return false;
  const ips = new Set<string>();
  if (pod.status?.podIP) ips.add(pod.status.podIP);
  for (const entry of pod.status?.podIPs ?? []) ips.add(entry.ip);
  return ips.has(peer);
}

function normalise(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const mapped = /^::ffff:(.+)$/i.exec(address);
  return mapped !== null && isIPv4(mapped[1] as string) ? (mapped[1] as string) : address;
}

/** The token's `exp` (ms), read without verifying: it only shortens a cache entry. */
function tokenExpiryMs(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
