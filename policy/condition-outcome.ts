// What a `when` condition's evaluation says besides "true", shared by the CEL engine that
// produces it and evaluateCall that reads it (which must not load the engine itself).

/** What evaluate returns for a condition that is plain `false` (as opposed to an error). */
export const CONDITION_FALSE = "condition is false";
