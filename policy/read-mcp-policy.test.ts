import { describe, expect, it } from "vitest";
import { load } from "js-yaml";
import { formatProblem } from "./problems.ts";
import { readMcpPolicy } from "./read-mcp-policy.ts";
import { testCache } from "../test/support/policy-engines.ts";

function problems(yaml: string): string[] {
  const result = readMcpPolicy(load(yaml), testCache());
  return result.ok ? [] : result.problems.map(formatProblem);
}

const header = "apiVersion: mcpwarden.dev/v1alpha1\nkind: McpPolicy\nmetadata: {name: p, namespace: agents}\n";

describe("readMcpPolicy", () => {
  it("reads the architecture's example policy", () => {
    const result = readMcpPolicy(
      load(`${header}spec:
  selector: { matchLabels: { app.kubernetes.io/name: mockloop-mcp } }
  mode: enforce
  default: deny
  hide: ["debug_*"]
  networkPolicy: enabled
  identity:
    source: jwt
    jwt: { issuer: https://issuer.example, audiences: [mcp], jwksUri: https://issuer.example/jwks, claim: sub }
  allTools: { limits: [{ counter: all, window: hour, max: 1000, scope: global }] }
  tools:
    run_test_iteration:
      action: allow
      reason: "text returned to the agent on deny"
      limits:
        - { counter: run_test_iteration_rate, window: minute, max: 10, scope: grant }
      arguments: { type: object, properties: { iterations: { type: integer, maximum: 5 } } }
      when: "args.target.startsWith('staging-')"
    deploy: { action: approve, approval: { timeout: 10m } }
    list_runs: {}
    list_tests:
status:
  observedGeneration: 3
`), testCache()
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.keys(result.policy.spec.tools ?? {})).toEqual(["run_test_iteration", "deploy", "list_runs", "list_tests"]);
    expect(result.policy.spec.tools?.["list_tests"]).toEqual({});
  });

  it("reports the issue's example message for a bad window", () => {
    expect(problems(`${header}spec:\n  tools:\n    "run_*":\n      limits: [{counter: c, window: fortnight, max: 10}]\n`)).toEqual([
      'spec.tools["run_*"].limits[0].window: "fortnight" is not a window (use second|minute|hour|day, a duration like 90s, or seconds)',
    ]);
  });

  it("reports every problem at once, structural and semantic, each with its path", () => {
    const found = problems(`apiVersion: mcpwarden.dev/v1
kind: McpPolicy
metadata: {name: Not_A_Name}
spec:
  mode: sometimes
  default: maybe
  hide: ["", 3]
  selector: {matchLabels: {"bad key!": x}}
  identity: {source: header, jwt: {issuer: x, audiences: [], jwksUri: "ftp://x"}}
  allTools: {limits: [{counter: c, window: minute, max: 5}]}
  tools:
    "":
      action: allow
    x:
      action: maybe
      limits: [{counter: c, window: hour, max: 5}]
      when: "args.a +"
      arguments: {type: object, properties: {a: {type: strin}}}
      approval: {timeout: 2d}
      rate_limit: 3
    y: {action: approve}
    z: [1]
`);
    expect(found).toEqual(
      expect.arrayContaining([
        'apiVersion: "mcpwarden.dev/v1" is not mcpwarden.dev/v1alpha1',
        'spec.mode: "sometimes" is not one of enforce | audit',
        'spec.default: "maybe" is not one of deny | allow',
        "spec.hide[1]: must be a string, not number",
        'spec.tools["x"].action: "maybe" is not one of allow | deny | approve',
        'spec.tools["x"].rate_limit: unknown field (rate limits are written limits: [{counter, window, max, scope}])',
        'spec.tools["z"]: must be an object, not array',
        expect.stringMatching(/^metadata\.name: "Not_A_Name" is not a valid name/),
        expect.stringMatching(/^spec\.selector\.matchLabels\["bad key!"\]: .* is not a label key/),
        "spec.identity.header: is required with source: header (the request header naming the caller)",
        "spec.identity.jwt: is only used with source: jwt (source is header)",
        'spec.tools[""]: a tool name or glob must not be empty',
        expect.stringMatching(/^spec\.tools\["x"\]\.limits\[0\]: counter "c" is already used at spec\.allTools\.limits\[0\] with window minute, max 5, scope grant/),
        expect.stringMatching(/^spec\.tools\["x"\]\.when: does not parse: /),
        expect.stringMatching(/^spec\.tools\["x"\]\.arguments: does not compile: /),
        'spec.tools["x"].approval.timeout: "2d" is not a duration (write e.g. 30s, 10m or 1h30m)',
        'spec.tools["y"].approval.timeout: is required when action is approve (how long a held call waits for a person, 1s to 24h)',
      ]),
    );
    // hide is unreadable as a whole (one entry is not a string), so its empty entry is not also reported.
    expect(found.filter((line) => line.startsWith("spec.hide"))).toHaveLength(1);
  });

  it("reads toolDefinitions, validateServerSchema and advertiseConstraints", () => {
    const digest = `sha256:${"0123456789abcdef".repeat(4)}`;
    const result = readMcpPolicy(
      load(`${header}spec:
  toolDefinitions: { mode: pin, pins: { list_runs: "${digest}", __proto__: "${digest}" } }
  validateServerSchema: true
  advertiseConstraints: false
`), testCache()
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.policy.spec).toMatchObject({ toolDefinitions: { mode: "pin" }, validateServerSchema: true, advertiseConstraints: false });
    expect(Object.keys(result.policy.spec.toolDefinitions?.pins ?? {})).toEqual(["list_runs", "__proto__"]);
  });

  it("names the field of a bad mode, a malformed digest and a non-boolean option", () => {
    expect(
      problems(`${header}spec:
  toolDefinitions: { mode: lock, pins: { list_runs: "sha256:abc", deploy: 7 }, extra: 1 }
  validateServerSchema: "yes"
  advertiseConstraints: 1
`),
    ).toEqual([
      "spec.toolDefinitions.extra: unknown field (allowed: mode, pins)",
      'spec.toolDefinitions.mode: "lock" is not one of pin | audit | off',
      'spec.toolDefinitions.pins["deploy"]: must be a string, not number',
      'spec.validateServerSchema: must be true or false, not "yes"',
      "spec.advertiseConstraints: must be true or false, not 1",
    ]);
    expect(problems(`${header}spec:
  toolDefinitions: { mode: audit, pins: { list_runs: "sha256:abc" } }
`)).toEqual([
      'spec.toolDefinitions.pins["list_runs"]: "sha256:abc" is not a tool definition digest (sha256: and 64 lowercase hex digits, as mcp-warden policy pin prints)',
    ]);
  });

  it("never throws on hostile shapes", () => {
    for (const value of [null, 1, "x", [], { spec: null }, { spec: { tools: null } }, { metadata: [] }, { spec: { tools: { a: { limits: [null, 1, "x"] } } } }]) {
      expect(readMcpPolicy(value, testCache()).ok).toBe(false);
    }
  });

  it("keeps tool names like __proto__ and constructor as plain keys", () => {
    const value = JSON.parse(
      `{"apiVersion":"mcpwarden.dev/v1alpha1","kind":"McpPolicy","metadata":{"name":"p"},"spec":{"tools":{"__proto__":{"action":"deny"},"constructor":{}}}}`,
    ) as unknown;
    const result = readMcpPolicy(value, testCache());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.keys(result.policy.spec.tools ?? {})).toEqual(["__proto__", "constructor"]);
    expect(Object.getPrototypeOf(result.policy.spec.tools)).toBeNull();
  });

  it("accepts an object as the API server returns it (extra metadata, status, defaults filled in)", () => {
    const result = readMcpPolicy({
      apiVersion: "mcpwarden.dev/v1alpha1",
      kind: "McpPolicy",
      metadata: { name: "p", namespace: "agents", generation: 2, uid: "u", resourceVersion: "9", creationTimestamp: "2026-01-01T00:00:00Z", managedFields: [] },
      spec: { selector: {}, mode: "enforce", default: "deny", networkPolicy: "disabled", tools: { a: { action: "allow" } } },
      status: { observedGeneration: 2 },
    }, testCache());
    expect(result.ok && result.policy.metadata).toEqual({
      name: "p",
      namespace: "agents",
      generation: 2,
      uid: "u",
      creationTimestamp: "2026-01-01T00:00:00Z",
    });
  });
});
