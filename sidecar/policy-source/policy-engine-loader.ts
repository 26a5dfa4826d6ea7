// The sidecar loads the CEL and JSON Schema engines when its policies first need them
// (policy/policy-engines.ts): a sidecar whose policies have no `when`, no `arguments` and
// no `validateServerSchema` never loads either (docs/architecture.md "What the sidecar
// loads"). Once loaded, an engine stays: the next policy needing it compiles at once.

import { enginesCover, type EngineNeeds, type PolicyEngines } from "../../policy/index.ts";

export interface EngineLoadLog {
  info(object: object, message: string): void;
}

export class PolicyEngineLoader {
  #engines: PolicyEngines = {};
  readonly #log: EngineLoadLog | undefined;

  constructor(log?: EngineLoadLog) {
    this.#log = log;
  }

  /** The engines loaded so far (what a synchronous compile may use). */
  get engines(): PolicyEngines {
    return this.#engines;
  }

  /** The engines `needs` asks for, loading the missing ones. */
  async ensure(needs: EngineNeeds): Promise<PolicyEngines> {
    if (enginesCover(this.#engines, needs)) return this.#engines;
    let { conditions, schemas } = this.#engines;
    if (needs.conditions && conditions === undefined) {
      conditions = (await import("../../policy/cel-condition.ts")).celConditionEngine;
      this.#log?.info({ engine: "CEL" }, "loaded the CEL engine: a policy has a when condition");
    }
    if (needs.schemas && schemas === undefined) {
      schemas = (await import("../../policy/json-schema-engine.ts")).createJsonSchemaEngine();
      this.#log?.info({ engine: "JSON Schema" }, "loaded the JSON Schema engine: a policy checks arguments or the server's schemas");
    }
    this.#engines = { ...(conditions === undefined ? {} : { conditions }), ...(schemas === undefined ? {} : { schemas }) };
    return this.#engines;
  }
}
