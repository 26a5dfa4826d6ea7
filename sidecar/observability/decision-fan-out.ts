// The proxy reports to one observer of each kind; metrics, the audit log (and, in a
// cluster, the operator report) all listen. An observer that throws must not turn a
// decision into a crash or hide it from the others.

import type { DecisionObserver, DecisionRecord, ToolDefinitionObserver, ToolDefinitionRecord } from "../contracts.ts";

export function fanOutDecisions(observers: readonly DecisionObserver[], onObserverError?: (error: unknown) => void): DecisionObserver {
  return { onDecision: (record: DecisionRecord) => callEach(observers, (observer) => observer.onDecision(record), onObserverError) };
}

export function fanOutToolDefinitions(observers: readonly ToolDefinitionObserver[], onObserverError?: (error: unknown) => void): ToolDefinitionObserver {
  return { onToolDefinition: (record: ToolDefinitionRecord) => callEach(observers, (observer) => observer.onToolDefinition(record), onObserverError) };
}

function callEach<T>(observers: readonly T[], call: (observer: T) => void, onObserverError: ((error: unknown) => void) | undefined): void {
  for (const observer of observers) {
    try {
      call(observer);
    } catch (error) {
      onObserverError?.(error);
    }
  }
}
