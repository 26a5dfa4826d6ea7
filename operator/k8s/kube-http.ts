// One authenticated HTTP request to the API server, with the credentials and TLS
// settings of the kubeconfig (client-node reads them). client-node builds a new dispatcher
// (a new TLS connection pool) for every request; KubeHttp keeps one for as long as the
// TLS material stays the same, so requests reuse connections (with 1,000 sidecars
// acking, new handshakes were most of the operator's CPU).
import { createHash } from "node:crypto";
import type { RequestOptions } from "node:https";
import { HttpMethod, RequestContext, type KubeConfig } from "@kubernetes/client-node";
import { request as undiciRequest, type Dispatcher } from "undici";
import { ApiError } from "../cluster.ts";

/** Longer than any request's timeout: a replaced pool's last requests finish first. */
const REPLACED_POOL_GRACE_MS = 60_000;

export interface KubeRequest {
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** Required with a body: patches need the exact patch type. */
  contentType?: string;
  timeoutMs?: number;
}

export interface KubeResponse {
  status: number;
  body: unknown;
}

export class KubeHttp {
  readonly #config: KubeConfig;
  #pool: { key: string; dispatcher: Promise<Dispatcher | undefined> } | undefined;

  constructor(config: KubeConfig) {
    this.#config = config;
  }

  /** Any HTTP status comes back as a value; only transport failures throw. */
  async request(method: HttpMethod, path: string, request: KubeRequest = {}): Promise<KubeResponse> {
    const cluster = this.#config.getCurrentCluster();
    if (cluster === null) throw new Error("the kubeconfig has no current cluster");
    const url = new URL(cluster.server.replace(/\/$/, "") + path);
    for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    // One read of the kubeconfig's credentials per request (token files rotate): the
    // headers come from it, and so does the key that says whether the pool still fits.
    const options: RequestOptions = {};
    await this.#config.applyToHTTPSOptions(options);
    const dispatcher = await this.#dispatcher(options, url, method);
    const headers: Record<string, string> = { ...authenticationHeaders(options), accept: "application/json" };
    if (request.body !== undefined) headers["content-type"] = request.contentType ?? "application/json";
    // undici's request(), not fetch(): fetch clones and tees every request and response,
    // most of the operator's short-lived garbage under 1,000 acking sidecars.
    const response = await undiciRequest(url, {
      method,
      headers,
      ...(dispatcher === undefined ? {} : { dispatcher }),
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: AbortSignal.timeout(request.timeoutMs ?? 30_000),
    });
    const text = await response.body.text();
    let body: unknown = text;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      // not JSON (a proxy's error page): keep the text for the message
    }
    return { status: response.statusCode, body };
  }

  /** Closes the pooled connections. */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await (await pool?.dispatcher.catch(() => undefined))?.close();
  }

  /**
   * The pooled dispatcher while the TLS material (and proxy) is unchanged; otherwise a new
   * one, built by client-node (which knows proxies), becomes the pool. The pool is set
   * before anything is awaited, so concurrent first requests (every informer lists at
   * start) share one instead of each building a pool and closing the one another request
   * was about to use ("The client is closed"). A replaced pool is closed only after its
   * requests can have finished.
   */
  #dispatcher(options: RequestOptions, url: URL, method: HttpMethod): Promise<Dispatcher | undefined> {
    const tls = [options.ca, options.cert, options.key, options.pfx, options.passphrase, options.rejectUnauthorized, options.servername, this.#config.getCurrentCluster()?.proxyUrl];
    const hash = createHash("sha256");
    for (const part of tls.flat()) hash.update(part === undefined ? "\u0000" : typeof part === "string" || Buffer.isBuffer(part) ? part : JSON.stringify(part)).update("\u0001");
    const key = hash.digest("hex");
    if (this.#pool?.key === key) return this.#pool.dispatcher;
    const previous = this.#pool?.dispatcher;
    const context = new RequestContext(url.toString(), method);
    this.#pool = { key, dispatcher: this.#config.applySecurityAuthentication(context).then(() => context.getDispatcher() as Dispatcher | undefined) };
    if (previous !== undefined) {
      setTimeout(() => void previous.then((dispatcher) => dispatcher?.close()).catch(() => undefined), REPLACED_POOL_GRACE_MS).unref();
    }
    return this.#pool.dispatcher;
  }

  /** Like request(), but a status outside 2xx throws an ApiError with the server's message. */
  async expectOk(method: HttpMethod, path: string, request: KubeRequest = {}): Promise<unknown> {
    const response = await this.request(method, path, request);
    if (response.status >= 200 && response.status < 300) return response.body;
    throw new ApiError(response.status, `${method} ${path}: HTTP ${response.status}: ${statusMessage(response.body)}`);
  }
}

/**
 * The headers client-node's applySecurityAuthentication sets: Basic credentials of a
 * user with a password, then the kubeconfig's headers (a bearer token), which win.
 */
function authenticationHeaders(options: RequestOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (typeof options.auth === "string") headers["authorization"] = `Basic ${Buffer.from(options.auth).toString("base64")}`;
  for (const [name, value] of Object.entries(options.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = String(value);
  return headers;
}

export function statusMessage(body: unknown): string {
  if (typeof body === "object" && body !== null && typeof (body as { message?: unknown }).message === "string") {
    return (body as { message: string }).message;
  }
  return typeof body === "string" ? body.slice(0, 300) : "no message";
}

export { HttpMethod };
