import { describe, expect, it } from "vitest";
import { PolicyEngineLoader } from "./policy-engine-loader.ts";

describe("PolicyEngineLoader", () => {
  it("loads an engine the first time a policy needs it, says so once, and keeps it", async () => {
    const said: string[] = [];
    const loader = new PolicyEngineLoader({ info: (_fields, message) => said.push(message) });
    expect(await loader.ensure({ conditions: false, schemas: false })).toEqual({});
    const withConditions = await loader.ensure({ conditions: true, schemas: false });
    expect(withConditions.conditions?.compile("args.n > 1").ok).toBe(true);
    expect(withConditions.schemas).toBeUndefined();
    const both = await loader.ensure({ conditions: false, schemas: true });
    expect(both.conditions).toBe(withConditions.conditions);
    expect(both.schemas?.compileArguments({ type: "object", properties: { n: { type: "number", maximum: 5 } } }).ok).toBe(true);
    await loader.ensure({ conditions: true, schemas: true });
    expect(said).toEqual(["loaded the CEL engine: a policy has a when condition", "loaded the JSON Schema engine: a policy checks arguments or the server's schemas"]);
  });
});
