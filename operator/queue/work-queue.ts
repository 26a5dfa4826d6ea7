// A keyed work queue in the manner of client-go's: it carries keys, never events
// (reconcile is level-triggered); a key waiting is queued once however often it is
// added; a key is never processed twice at once (added while processing, it runs
// again afterwards); a failed key comes back after a per-key exponential backoff that
// resets when it succeeds.

export interface WorkQueueOptions {
  /** Reconciles one key; a rejection retries the key with backoff. */
  process: (key: string) => Promise<void>;
  /** Keys processed at once (never the same key twice). Default 2. */
  concurrency?: number;
  /** First retry delay; doubles per consecutive failure up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Told about every failure, with the delay before the retry. */
  onError?: (key: string, error: unknown, retryInMs: number) => void;
}

export class WorkQueue {
  readonly #process: (key: string) => Promise<void>;
  readonly #concurrency: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #onError: ((key: string, error: unknown, retryInMs: number) => void) | undefined;
  /** Keys ready to run, in order; `#queued` mirrors it for de-duplication. */
  readonly #ready: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  /** Added while processing: run again when the current run ends. */
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #idleWaiters: (() => void)[] = [];
  #shutDown = false;

  constructor(options: WorkQueueOptions) {
    this.#process = options.process;
    this.#concurrency = Math.max(1, options.concurrency ?? 2);
    this.#baseDelayMs = options.baseDelayMs ?? 5;
    this.#maxDelayMs = options.maxDelayMs ?? 60_000;
    this.#onError = options.onError;
  }

  /** Queues the key now (cancelling a pending delayed add of it). */
  add(key: string): void {
    if (this.#shutDown) return;
    const delayed = this.#delayed.get(key);
    if (delayed !== undefined) {
      clearTimeout(delayed.timer);
      this.#delayed.delete(key);
    }
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#ready.push(key);
    this.#pump();
  }

  /** Queues the key after delayMs, unless it is queued sooner. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shutDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const existing = this.#delayed.get(key);
    if (existing !== undefined) {
      if (existing.at <= at) return;
      clearTimeout(existing.timer);
    }
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.#delayed.set(key, { at, timer });
  }

  /** Forgets the key's failures, e.g. when its object is deleted. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  get length(): number {
    return this.#ready.length;
  }

  /** Resolves when nothing is queued or processing (delayed retries do not count). */
  idle(): Promise<void> {
    if (this.#ready.length === 0 && this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Drops waiting keys and lets running ones finish. */
  async shutDown(): Promise<void> {
    this.#shutDown = true;
    for (const { timer } of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    this.#ready.length = 0;
    this.#queued.clear();
    this.#dirty.clear();
    await this.idle();
  }

  #pump(): void {
    while (!this.#shutDown && this.#processing.size < this.#concurrency && this.#ready.length > 0) {
      const key = this.#ready.shift() as string;
      this.#queued.delete(key);
      this.#processing.add(key);
      void this.#run(key);
    }
    if (this.#ready.length === 0 && this.#processing.size === 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  async #run(key: string): Promise<void> {
    let failed = false;
    try {
      await this.#process(key);
      this.#failures.delete(key);
    } catch (error) {
      failed = true;
      const failures = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, failures);
      const delay = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (failures - 1));
      this.#onError?.(key, error, delay);
      this.#processing.delete(key);
      if (this.#dirty.delete(key)) this.add(key);
      else this.addAfter(key, delay);
    }
    if (!failed) {
      this.#processing.delete(key);
      if (this.#dirty.delete(key)) this.add(key);
    }
    this.#pump();
  }
}
