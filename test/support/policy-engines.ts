// Every policy engine (CEL, JSON Schema), made once per test file: tests compile policies
// of every kind, as the operator and the CLI do (the sidecar loads engines lazily).

import { allPolicyEngines } from "../../policy/all-engines.ts";
import { CompileCache } from "../../policy/compile-cache.ts";

export const TEST_ENGINES = allPolicyEngines();

/** A new cache (a new pass) over the shared engines. */
export function testCache(): CompileCache {
  return new CompileCache(TEST_ENGINES);
}
