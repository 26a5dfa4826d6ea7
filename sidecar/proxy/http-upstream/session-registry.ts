// What the sidecar remembers about each MCP session it has seen initialized through it:
// the negotiated protocol version (batches depend on it) and the watched requests still
// unanswered. A session unseen for the idle time is forgotten (the upstream owns the
// session; forgetting only makes batches refused), which frees its place under
// --max-sessions. MAX_SESSIONS bounds the table even when initializes race past that cap.

import { ResponseWatch } from "../replies/response-watch.ts";

const MAX_SESSIONS = 50_000;

export class SessionState {
  protocolVersion: string | undefined;
  readonly watch = new ResponseWatch();
  lastSeen: number;

  constructor(now: number) {
    this.lastSeen = now;
  }
}

export class SessionRegistry {
  readonly #sessions = new Map<string, SessionState>();
  readonly #idleMs: number;
  readonly #now: () => number;

  constructor(idleMs: number, now: () => number) {
    this.#idleMs = idleMs;
    this.#now = now;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Sessions not idle too long (idle ones are forgotten first). */
  liveCount(): number {
    this.#sweep(this.#now());
    return this.#sessions.size;
  }

  get(id: string | undefined): SessionState | undefined {
    if (id === undefined || id === "") return undefined;
    const state = this.#sessions.get(id);
    if (state === undefined) return undefined;
    const now = this.#now();
    if (now - state.lastSeen > this.#idleMs) {
      this.#sessions.delete(id);
      return undefined;
    }
    // Re-inserting keeps the Map in least-recently-seen order for the sweep below.
    state.lastSeen = now;
    this.#sessions.delete(id);
    this.#sessions.set(id, state);
    return state;
  }

  create(id: string): SessionState {
    const now = this.#now();
    this.#sweep(now);
    const state = new SessionState(now);
    this.#sessions.delete(id);
    this.#sessions.set(id, state);
    return state;
  }

  delete(id: string | undefined): void {
    if (id !== undefined) this.#sessions.delete(id);
  }

  #sweep(now: number): void {
    for (const [id, state] of this.#sessions) {
      if (this.#sessions.size < MAX_SESSIONS && now - state.lastSeen <= this.#idleMs) break;
      this.#sessions.delete(id);
    }
  }
}
