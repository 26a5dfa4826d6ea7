// Events for `kubectl describe`, each told once: reconciles repeat, the event should
// not. A key says what the event is about (object, generation, finding); the same key
// is not recorded again until it is forgotten.
import type { ClusterClient, EventRecord } from "../cluster.ts";
import { errorText, type OperatorLogger } from "../operator-logger.ts";

const MAX_REMEMBERED = 10_000;

export class EventRecorder {
  readonly #client: ClusterClient;
  readonly #reportingInstance: string;
  readonly #logger: OperatorLogger;
  readonly #recorded = new Set<string>();

  constructor(client: ClusterClient, reportingInstance: string, logger: OperatorLogger) {
    this.#client = client;
    this.#reportingInstance = reportingInstance;
    this.#logger = logger;
  }

  /** Records the event unless this key was recorded already. Failures are logged, not thrown. */
  async record(key: string, event: EventRecord): Promise<void> {
    if (this.#recorded.has(key)) return;
    if (this.#recorded.size >= MAX_REMEMBERED) this.#recorded.clear();
    this.#recorded.add(key);
    try {
      await this.#client.createEvent(event, this.#reportingInstance);
    } catch (error) {
      this.#recorded.delete(key);
      this.#logger.warn({ err: errorText(error), reason: event.reason }, "could not record an event");
    }
  }

  /** Forgets keys with this prefix, so the finding is told again if it comes back. */
  forget(prefix: string): void {
    for (const key of this.#recorded) if (key.startsWith(prefix)) this.#recorded.delete(key);
  }
}
