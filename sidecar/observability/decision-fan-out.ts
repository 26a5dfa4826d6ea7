// The proxy reports to one DecisionObserver; metrics and the audit log both listen. An
// observer that throws must not turn a decision into a crash or hide it from the others.

import type { DecisionObserver, DecisionRecord } from "../contracts.ts";

export function fanOutDecisions(observers: readonly DecisionObserver[], onObserverError?: (error: unknown) => void): DecisionObserver {
  return {
    onDecision(record: DecisionRecord): void {
      for (const observer of observers) {
        try {
          observer.onDecision(record);
        } catch (error) {
          onObserverError?.(error);
        }
      }
    },
  };
}
