// `--policy FILE|DIR` as a PolicySource. Watches the directory (a FILE's parent), not the
// file: editors save by writing a new file and renaming it over the old one, and
// ConfigMap volumes swap a symlink, both of which leave a watch on the old file's inode
// deaf. Events are debounced, and a slow periodic re-read catches anything a watch
// misses (a replaced directory, network filesystems). A reload whose content did not
// change does nothing; one that does not compile keeps the last good snapshot in force
// and is reported once per distinct content.

import { watch, type FSWatcher } from "node:fs";
import { stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { PolicySource, PolicySourceListener } from "../contracts.ts";
import { PolicyEngineLoader, type EngineLoadLog } from "./policy-engine-loader.ts";
import { parsePolicyFiles, policyFilesNeed, policyRevision, readPolicyFiles, snapshotFromFiles } from "./policy-files.ts";

export interface FilePolicySourceOptions {
  /** A policy file or a directory of them. */
  path: string;
  /** Quiet time after the last change before reloading. Default 150 ms. */
  debounceMs?: number;
  /** Re-read this often even without events; 0 turns it off. Default 10 s. */
  recheckIntervalMs?: number;
  /** The watch itself failed (reloads still happen on the re-read interval). */
  onWatchError?: (error: Error) => void;
  /** Where loading an engine a policy needs is said. */
  log?: EngineLoadLog;
}

export class FilePolicySource implements PolicySource {
  readonly #path: string;
  readonly #engines: PolicyEngineLoader;
  readonly #debounceMs: number;
  readonly #recheckIntervalMs: number;
  readonly #onWatchError: ((error: Error) => void) | undefined;
  #listener: PolicySourceListener | undefined;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #recheck: NodeJS.Timeout | undefined;
  /** Loads run one at a time; a change during a load schedules one more. */
  #loading: Promise<void> = Promise.resolve();
  #appliedRevision: string | undefined;
  #failedContent: string | undefined;
  #stopped = false;

  constructor(options: FilePolicySourceOptions) {
    this.#engines = new PolicyEngineLoader(options.log);
    this.#path = options.path;
    this.#debounceMs = options.debounceMs ?? 150;
    this.#recheckIntervalMs = options.recheckIntervalMs ?? 10_000;
    this.#onWatchError = options.onWatchError;
  }

  /** The revision in force, if any policy has loaded. */
  get revision(): string | undefined {
    return this.#appliedRevision;
  }

  async start(listener: PolicySourceListener): Promise<void> {
    this.#listener = listener;
    this.#stopped = false;
    await this.#reload();
    if (this.#stopped) return;
    await this.#startWatching();
    if (this.#recheckIntervalMs > 0) {
      this.#recheck = setInterval(() => void this.#reload(), this.#recheckIntervalMs);
      this.#recheck.unref();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#debounce);
    clearInterval(this.#recheck);
    this.#watcher?.close();
    this.#watcher = undefined;
    await this.#loading;
  }

  async #startWatching(): Promise<void> {
    const isDirectory = await stat(this.#path).then((s) => s.isDirectory(), () => false);
    const directory = isDirectory ? this.#path : dirname(this.#path);
    try {
      this.#watcher = watch(directory, { persistent: false }, () => this.#scheduleReload());
      this.#watcher.on("error", (error) => {
        this.#onWatchError?.(error);
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch (error) {
      this.#onWatchError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #scheduleReload(): void {
    if (this.#stopped) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.#reload(), this.#debounceMs);
    this.#debounce.unref();
  }

  #reload(): Promise<void> {
    // A load never rejects, so one failure cannot stop every later reload.
    this.#loading = this.#loading
      .then(() => (this.#stopped ? undefined : this.#loadOnce()))
      .catch((error: unknown) => this.#listener?.onLoadError(`reloading ${this.#path} failed: ${String(error)}`));
    return this.#loading;
  }

  async #loadOnce(): Promise<void> {
    const listener = this.#listener;
    if (listener === undefined) return;
    const read = await readPolicyFiles(this.#path);
    if (!read.ok) return this.#fail(listener, read.message, read.message);
    const revision = policyRevision(read.files);
    if (revision === this.#appliedRevision) {
      this.#failedContent = undefined;
      return;
    }
    const parsed = parsePolicyFiles(read.files);
    const engines = await this.#engines.ensure(policyFilesNeed(parsed));
    if (this.#stopped) return;
    const built = snapshotFromFiles(parsed, revision, engines);
    if (!built.ok) return this.#fail(listener, built.message, revision);
    this.#appliedRevision = revision;
    this.#failedContent = undefined;
    if (!this.#stopped) listener.onSnapshot(built.snapshot);
  }

  /** `content` identifies what failed, so the same broken file is reported once, not on every re-read. */
  #fail(listener: PolicySourceListener, message: string, content: string): void {
    if (content === this.#failedContent || this.#stopped) return;
    this.#failedContent = content;
    const kept = this.#appliedRevision === undefined ? "no policy is loaded" : `keeping revision ${this.#appliedRevision.slice(0, 12)}`;
    listener.onLoadError(`${message} (${kept})`);
  }
}
