// In a cluster, the sidecar tells the operator which tool definitions its upstream lists
// (protocol/tool-definition-report.ts): the operator shows them in the status of the
// McpPolicies with toolDefinitions, so a person can review a changed definition and pin
// it (`kubectl mcpwarden pin accept`). A report goes out when a listing shows a digest not
// reported yet, at most once per REPORT_MIN_INTERVAL_MS; it carries the latest digest of
// every tool seen (bounded), so the operator's record is the pod's whole view. A failed
// report is retried with backoff; the definitions are never at stake, only the status.

import {
  MAX_REPORTED_NAME_LENGTH,
  MAX_REPORTED_TOOLS,
  REPORT_MIN_INTERVAL_MS,
  TOOL_DEFINITIONS_PATH,
  type ToolDefinitionReport,
} from "../../protocol/index.ts";
import type { ToolDefinitionObserver, ToolDefinitionRecord } from "../contracts.ts";

export interface DefinitionReportOptions {
  /** POSTs JSON to the operator with the pod's token (OperatorStreamSource.post). */
  post(path: string, body: unknown): Promise<{ status: number; text: string }>;
  logger: { debug(fields: object, message: string): void; warn(fields: object, message: string): void };
  /** Default REPORT_MIN_INTERVAL_MS. */
  minIntervalMs?: number;
  /** Longest wait between retries of a failed report. Default 60 s. */
  maxBackoffMs?: number;
}

export class DefinitionReport implements ToolDefinitionObserver {
  readonly #options: DefinitionReportOptions;
  readonly #seen = new Map<string, string>();
  #reported = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #sending = false;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  #failures = 0;
  #stopped = false;

  constructor(options: DefinitionReportOptions) {
    this.#options = options;
  }

  onToolDefinition(record: ToolDefinitionRecord): void {
    const { tool, digest } = record;
    if (tool.length > MAX_REPORTED_NAME_LENGTH || (!this.#seen.has(tool) && this.#seen.size >= MAX_REPORTED_TOOLS)) return;
    this.#seen.set(tool, digest);
    if (this.#reported.get(tool) !== digest) this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(extraDelayMs: number): void {
    if (this.#stopped || this.#sending || this.#timer !== undefined) return;
    const interval = this.#options.minIntervalMs ?? REPORT_MIN_INTERVAL_MS;
    const delay = Math.max(extraDelayMs, this.#lastSentAt + interval - performance.now(), 0);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#send();
    }, delay);
    this.#timer.unref();
  }

  #unreported(): boolean {
    if (this.#seen.size !== this.#reported.size) return true;
    for (const [tool, digest] of this.#seen) if (this.#reported.get(tool) !== digest) return true;
    return false;
  }

  async #send(): Promise<void> {
    if (this.#stopped || !this.#unreported()) return;
    this.#sending = true;
    const sent = new Map(this.#seen);
    const body: ToolDefinitionReport = { tools: Object.fromEntries(sent) };
    let retryInMs = 0;
    try {
      this.#lastSentAt = performance.now();
      const { status, text } = await this.#options.post(TOOL_DEFINITIONS_PATH, body);
      if (status >= 200 && status < 300) {
        this.#reported = sent;
        this.#failures = 0;
        this.#options.logger.debug({ tools: sent.size }, "reported the listed tool definitions to the operator");
      } else {
        throw new Error(`HTTP ${status}: ${text.slice(0, 200)}`);
      }
    } catch (error) {
      this.#failures++;
      retryInMs = Math.min(this.#options.maxBackoffMs ?? 60_000, 1_000 * 2 ** Math.min(this.#failures - 1, 16));
      this.#options.logger.warn({ err: error instanceof Error ? error.message : String(error), retryInMs }, "could not report the listed tool definitions to the operator; retrying");
    } finally {
      this.#sending = false;
    }
    if (this.#unreported()) this.#schedule(retryInMs);
  }
}
