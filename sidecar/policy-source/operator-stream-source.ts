// The operator's policy stream as a PolicySource (ARCHITECTURE.md "Sidecar ↔ operator
// protocol"): `GET /v1/stream` over HTTPS, trusting only the given CA, with the pod's
// projected token read from --token-file at every (re)connect (the kubelet rotates it).
// Each `bundle` event is compiled, applied, kept in --state-dir, and then acknowledged
// with `POST /v1/ack {revision}`. A lost stream changes nothing in force: the last good
// bundle keeps being enforced (and is loaded from --state-dir at start, before any
// connection), while the source reconnects with jittered exponential backoff.
import { request as httpsRequest, Agent, type RequestOptions } from "node:https";
import type { ClientRequest, IncomingMessage } from "node:http";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatProblem, policyEngineNeeds, readPolicyBundle } from "../../policy/index.ts";
import { PolicyEngineLoader } from "./policy-engine-loader.ts";
import { ACK_PATH, APPROVAL_EVENT, BUNDLE_EVENT, HEARTBEAT_INTERVAL_MS, STREAM_PATH, type AckBody, type ApprovalEvent, type BundleEvent } from "../../protocol/index.ts";
import type { PolicySnapshot, PolicySource, PolicySourceListener } from "../contracts.ts";

export const STATE_FILE = "policy-bundle.json";

/**
 * An `approval` event as it arrived: the operator's verdict on one of this pod's held
 * calls, shaped like the protocol's ApprovalEvent but not checked yet (the desk checks it).
 */
export type ReceivedApprovalEvent = { readonly [Field in keyof ApprovalEvent]?: unknown };

/** No byte for this long (heartbeats come every HEARTBEAT_INTERVAL_MS): the stream is dead. */
const DEFAULT_IDLE_TIMEOUT_MS = 3 * HEARTBEAT_INTERVAL_MS;

export interface StreamSourceLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

export interface OperatorStreamSourceOptions {
  /** The operator's base URL, e.g. https://mcp-warden.mcp-warden-system.svc:9444 (…/v1/stream is accepted too). */
  url: string;
  /** The projected ServiceAccount token (audience mcpwarden.dev), re-read at every connect. */
  tokenFile: string;
  /** The CA that signed the operator's certificate (PEM); nothing else is trusted. */
  caPem: string;
  /** Where the last good bundle is kept; without it nothing survives a restart. */
  stateDir?: string;
  /** First reconnect delay; doubles up to maxBackoffMs, with jitter. Defaults 500 ms and 30 s. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** No byte (heartbeats come every 15 s) for this long: the stream is dead. Default 45 s. */
  idleTimeoutMs?: number;
  onConnectionChange?: (connected: boolean) => void;
  onApproval?: (event: ReceivedApprovalEvent) => void;
  logger?: StreamSourceLogger;
}

const quiet: StreamSourceLogger = { info: () => undefined, warn: () => undefined, debug: () => undefined };

export class OperatorStreamSource implements PolicySource {
  readonly #options: OperatorStreamSourceOptions;
  readonly #base: string;
  readonly #agent: Agent;
  readonly #logger: StreamSourceLogger;
  /** Kept across bundles: a new ajv compiles the JSON Schema meta-schema first (10–50 ms). */
  /** Loads CEL and JSON Schema when a bundle first needs them (and keeps them). */
  readonly #engines: PolicyEngineLoader;
  /** Bundles are read one after another, in the order they arrived (loading an engine is asynchronous). */
  #reading: Promise<void> = Promise.resolve();
  #listener: PolicySourceListener | undefined;
  #request: ClientRequest | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #connected = false;
  #stopped = true;
  #revision: string | undefined;
  #ackWanted: string | undefined;
  #acking = false;

  constructor(options: OperatorStreamSourceOptions) {
    this.#options = options;
    this.#base = options.url.replace(/\/+$/, "");
    if (this.#base.endsWith(STREAM_PATH)) this.#base = this.#base.slice(0, -STREAM_PATH.length);
    this.#agent = new Agent({ ca: options.caPem, keepAlive: true, maxSockets: 2 });
    this.#logger = options.logger ?? quiet;
    this.#engines = new PolicyEngineLoader(this.#logger);
  }

  /** The revision in force, if any bundle has been applied. */
  get revision(): string | undefined {
    return this.#revision;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Applies the bundle kept in --state-dir, if any, then connects in the background. */
  async start(listener: PolicySourceListener): Promise<void> {
    this.#listener = listener;
    this.#stopped = false;
    await this.#loadState();
    this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#idleTimer);
    this.#request?.destroy();
    this.#request = undefined;
    this.#setConnected(false);
    this.#agent.destroy();
  }

  async #loadState(): Promise<void> {
    if (this.#options.stateDir === undefined) return;
    let text: string;
    try {
      text = await readFile(join(this.#options.stateDir, STATE_FILE), "utf8");
    } catch {
      return; // first start
    }
    try {
      const value: unknown = JSON.parse(text);
      const result = readPolicyBundle(value, await this.#engines.ensure(policyEngineNeeds([value])));
      if (!result.ok) throw new Error(result.problems.map(formatProblem).join("; "));
      this.#apply(result.bundle, result.table);
      this.#logger.info({ revision: result.bundle.revision }, "applied the last good bundle from the state directory");
    } catch (error) {
      this.#listener?.onLoadError(`the bundle kept in ${this.#options.stateDir} is unusable: ${message(error)}`);
    }
  }

  #connect(): void {
    if (this.#stopped) return;
    void this.#readToken().then(
      (token) => this.#open(token),
      (error: unknown) => this.#retry(`cannot read the token file ${this.#options.tokenFile}: ${message(error)}`),
    );
  }

  async #readToken(): Promise<string> {
    const token = (await readFile(this.#options.tokenFile, "utf8")).trim();
    if (token === "") throw new Error("it is empty");
    return token;
  }

  #open(token: string): void {
    if (this.#stopped) return;
    const url = new URL(`${this.#base}${STREAM_PATH}`);
    const options: RequestOptions = {
      method: "GET",
      ca: this.#options.caPem,
      agent: false, // a stream holds its socket for hours; keep it out of the ack pool
      headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
    };
    const request = httpsRequest(url, options, (response) => this.#onResponse(request, response));
    this.#request = request;
    request.on("error", (error) => {
      if (this.#request === request) this.#lost(`stream failed: ${message(error)}`);
    });
    this.#armIdle(request);
    request.end();
  }

  #onResponse(request: ClientRequest, response: IncomingMessage): void {
    if (response.statusCode !== 200) {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += body.length < 2000 ? chunk : ""));
      response.on("end", () => {
        if (this.#request !== request) return;
        this.#request = undefined;
        this.#retry(`the operator refused the stream: HTTP ${response.statusCode}: ${errorText(body)}`);
      });
      return;
    }
    this.#setConnected(true);
    this.#logger.info({ url: this.#base }, "connected to the operator");
    const reader = new SseReader((event, data) => this.#onEvent(event, data));
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      this.#armIdle(request);
      reader.push(chunk);
    });
    response.on("end", () => {
      if (this.#request === request) this.#lost("the operator closed the stream");
    });
    response.on("error", (error) => {
      if (this.#request === request) this.#lost(`stream failed: ${message(error)}`);
    });
  }

  #onEvent(event: string, data: string): void {
    if (event === BUNDLE_EVENT) this.#onBundle(data);
    else if (event === APPROVAL_EVENT) {
      try {
        const value: unknown = JSON.parse(data);
        if (typeof value !== "object" || value === null) throw new Error("not an object");
        this.#options.onApproval?.(value as ReceivedApprovalEvent);
      } catch (error) {
        this.#logger.warn({ err: message(error) }, "unreadable approval event");
      }
    }
  }

  #onBundle(data: string): void {
    this.#reading = this.#reading.then(() => this.#readBundle(data)).catch((error: unknown) => this.#listener?.onLoadError(`reading the operator's bundle failed: ${message(error)}`));
  }

  async #readBundle(data: string): Promise<void> {
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch (error) {
      this.#listener?.onLoadError(`the operator sent a bundle that is not JSON: ${message(error)}`);
      return;
    }
    const result = readPolicyBundle(value, await this.#engines.ensure(policyEngineNeeds([value])));
    if (!result.ok) {
      // The previous snapshot stays in force; no ack, so status shows this pod behind.
      this.#listener?.onLoadError(`the operator's bundle does not compile: ${result.problems.map(formatProblem).join("; ")}`);
      return;
    }
    this.#failures = 0;
    if (result.bundle.revision !== this.#revision) {
      this.#apply(result.bundle, result.table);
      void this.#saveState(data);
    }
    this.#ack(result.bundle.revision);
  }

  #apply(bundle: BundleEvent, table: PolicySnapshot["table"]): void {
    const snapshot: PolicySnapshot = { table, revision: bundle.revision, policies: bundle.policies.map((ref) => `${ref.namespace}/${ref.name}`) };
    this.#revision = bundle.revision;
    this.#listener?.onSnapshot(snapshot);
  }

  async #saveState(data: string): Promise<void> {
    const dir = this.#options.stateDir;
    if (dir === undefined) return;
    try {
      await mkdir(dir, { recursive: true });
      const temporary = join(dir, `.${STATE_FILE}.${process.pid}.tmp`);
      await writeFile(temporary, data, { mode: 0o600 });
      await rename(temporary, join(dir, STATE_FILE));
    } catch (error) {
      this.#logger.warn({ err: message(error), stateDir: dir }, "could not keep the bundle in the state directory");
    }
  }

  /**
   * Acks go one at a time, always for the revision in force: two in flight could reach
   * the operator in either order and leave the older one recorded.
   */
  #ack(revision: string): void {
    this.#ackWanted = revision;
    if (this.#acking) return;
    this.#acking = true;
    void this.#ackLoop().finally(() => (this.#acking = false));
  }

  async #ackLoop(): Promise<void> {
    let attempt = 0;
    while (!this.#stopped && this.#ackWanted !== undefined && this.#ackWanted === this.#revision) {
      const revision = this.#ackWanted;
      try {
        const { status } = await this.post(ACK_PATH, { revision } satisfies AckBody);
        if (status < 200 || status > 299) throw new Error(`HTTP ${status}`);
        this.#logger.debug({ revision }, "acknowledged the bundle");
        if (this.#ackWanted === revision) this.#ackWanted = undefined;
        attempt = 0;
      } catch (error) {
        if (attempt >= 4) {
          this.#logger.warn({ revision, err: message(error) }, "could not acknowledge the bundle; the next connection will");
          if (this.#ackWanted === revision) this.#ackWanted = undefined;
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt).unref());
        attempt++;
      }
    }
  }

  /**
   * POSTs JSON to the operator with the pod's token (acks; approvals ask through it too).
   * Resolves with the status and at most 64 KiB of the answer; rejects when unreachable.
   */
  async post(path: string, body: unknown, timeoutMs = 10_000): Promise<{ status: number; text: string }> {
    const token = await this.#readToken();
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = httpsRequest(
        new URL(`${this.#base}${path}`),
        {
          method: "POST",
          agent: this.#agent,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
          timeout: timeoutMs,
        },
        (response) => {
          let text = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (text += text.length < 65_536 ? chunk : ""));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
          response.on("error", reject);
        },
      );
      request.on("timeout", () => request.destroy(new Error("timed out")));
      request.on("error", reject);
      request.end(payload);
    });
  }

  #armIdle(request: ClientRequest): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#request === request) {
        request.destroy();
        this.#lost(`no heartbeat for ${this.#options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS} ms`);
      }
    }, this.#options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    this.#idleTimer.unref();
  }

  #lost(reason: string): void {
    this.#request?.destroy();
    this.#request = undefined;
    clearTimeout(this.#idleTimer);
    this.#setConnected(false);
    this.#retry(reason);
  }

  #retry(reason: string): void {
    if (this.#stopped) return;
    const min = this.#options.minBackoffMs ?? 500;
    const max = this.#options.maxBackoffMs ?? 30_000;
    const ceiling = Math.min(max, min * 2 ** this.#failures);
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.#failures++;
    this.#logger.warn({ reason, retryInMs: delay, enforcing: this.#revision ?? "nothing yet" }, "policy stream unavailable; reconnecting");
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
    this.#retryTimer.unref();
  }

  #setConnected(connected: boolean): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    this.#options.onConnectionChange?.(connected);
  }
}

/** Server-Sent Events, incrementally: `event:` and `data:` fields, comments ignored. */
class SseReader {
  readonly #dispatch: (event: string, data: string) => void;
  #buffer = "";
  #event = "";
  #data: string[] = [];

  constructor(dispatch: (event: string, data: string) => void) {
    this.#dispatch = dispatch;
  }

  push(chunk: string): void {
    this.#buffer += chunk;
    let newline: number;
    while ((newline = this.#buffer.search(/\r\n|\r|\n/)) !== -1) {
      const line = this.#buffer.slice(0, newline);
      const width = this.#buffer.startsWith("\r\n", newline) ? 2 : 1;
      // A lone "\r" at the very end may be half of "\r\n": wait for more.
      if (width === 1 && this.#buffer[newline] === "\r" && newline === this.#buffer.length - 1) break;
      this.#buffer = this.#buffer.slice(newline + width);
      this.#line(line);
    }
  }

  #line(line: string): void {
    if (line === "") {
      if (this.#data.length > 0) this.#dispatch(this.#event || "message", this.#data.join("\n"));
      this.#event = "";
      this.#data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.#event = value;
    else if (field === "data") this.#data.push(value);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === "string") return parsed.error;
  } catch {
    // not JSON
  }
  return body.trim().slice(0, 300) || "no message";
}
