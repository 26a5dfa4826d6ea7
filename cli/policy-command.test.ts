import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { load } from "js-yaml";
import { afterAll, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import { runPolicyCommand } from "../test/support/policy-cli.ts";
import { readMcpPolicy } from "../policy/index.ts";
import { testCache } from "../test/support/policy-engines.ts";

const examples = fileURLToPath(new URL("../examples/policies", import.meta.url));
const example = (file: string) => join(examples, file);
const scratch = mkdtempSync(join(tmpdir(), "mcp-warden-policy-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

const run = runPolicyCommand;

const header = "apiVersion: mcpwarden.dev/v1alpha1\nkind: McpPolicy\n";

describe("mcp-warden policy validate", () => {
  it("accepts the example policies", async () => {
    const files = ["mock-mcp.policylayer.json", "mock-mcp.yaml"].map(example);
    const result = await run("validate", ...files);
    expect(result).toEqual({ code: 0, stdout: files.map((path) => `${path}: ok (1 policy)`), stderr: [] });
  });

  it("warns, without failing, where per-grant limits have no identity source (every caller shares one budget)", async () => {
    const result = await run("validate", example("mockloop.yaml"));
    expect(result.code).toBe(0);
    expect(result.stdout).toEqual([`${example("mockloop.yaml")}: ok (1 policy)`]);
    expect(result.stderr).toEqual([
      `${example("mockloop.yaml")}: warning: agents/mockloop: per-grant limits (tools["run_test_iteration"].limits[0]) have no identity source, so every caller is one grant and all callers share one budget; ` +
        "name the caller with spec.identity (source: header, jwt or session) for a budget per caller, or write scope: global to say the budget is shared",
    ]);
    const named = file("named.yaml", `${header}metadata: {name: named}\nspec:\n  identity: {source: header, header: x-agent-id}\n  tools:\n    run: {limits: [{counter: runs, window: minute, max: 10}]}\n`);
    const global = file("global.yaml", `${header}metadata: {name: global}\nspec:\n  tools:\n    run: {limits: [{counter: runs, window: minute, max: 10, scope: global}]}\n`);
    expect((await run("validate", named)).stderr).toEqual([]);
    expect((await run("validate", global)).stderr).toEqual([]);
    // Another file of the same pod naming the caller counts.
    expect((await run("validate", example("mockloop.yaml"), named)).stderr.filter((line) => line.includes("per-grant"))).toEqual([]);
  });

  it("exits 1 listing every problem in every file, including problems across files", async () => {
    const bad = file(
      "bad.yaml",
      `${header}metadata: {name: bad}\nspec:\n  mode: loud\n  tools:\n    "run_*":\n      limits: [{counter: c, window: fortnight, max: 10}]\n      when: "args.x +"\n`,
    );
    const first = file("first.yaml", `${header}metadata: {name: first, creationTimestamp: "2026-01-01T00:00:00Z"}\nspec:\n  tools:\n    a: {limits: [{counter: shared, window: minute, max: 10}]}\n`);
    const second = file("second.json", JSON.stringify({ version: "1", tools: { b: { limits: [{ counter: "shared", window: 3600, max: 10 }] } } }));
    const result = await run("validate", bad, first, second);
    expect(result.code).toBe(1);
    expect(result.stdout).toEqual([]);
    expect(result.stderr).toEqual([
      `${bad}: spec.mode: "loud" is not one of enforce | audit`,
      `${bad}: spec.tools["run_*"].limits[0].window: "fortnight" is not a window (use second|minute|hour|day, a duration like 90s, or seconds)`,
      expect.stringMatching(new RegExp(`^${bad}: spec\\.tools\\["run_\\*"\\]\\.when: does not parse: `)),
      `${second}: spec.tools["b"].limits[0]: counter "shared" is already used at first spec.tools["a"].limits[0] with window minute, max 10, scope grant; a counter is one budget, so every use needs the same window, max and scope`,
    ]);
  });

  it("warns about identity conflicts without failing", async () => {
    const older = file("older.yaml", `${header}metadata: {name: older, creationTimestamp: "2026-01-01T00:00:00Z"}\nspec:\n  identity: {source: session}\n`);
    const newer = file("newer.yaml", `${header}metadata: {name: newer, creationTimestamp: "2026-02-01T00:00:00Z"}\nspec:\n  identity: {source: none}\n`);
    const result = await run("validate", older, newer);
    expect(result.code).toBe(0);
    expect(result.stderr).toEqual([expect.stringMatching(new RegExp(`^${newer}: warning: spec\\.identity: identity \\(source: none\\) disagrees with the older policy older`))]);
  });

  it("reports unreadable files and bad YAML in one line each", async () => {
    expect(await run("validate", join(scratch, "missing.yaml"))).toEqual({
      code: 2,
      stdout: [],
      stderr: [`error: cannot read ${join(scratch, "missing.yaml")}: no such file`],
    });
    const bomb = file("bomb.yaml", "a: &a [x, x]\nb: [*a, *a]\n");
    expect((await run("validate", bomb)).stderr).toEqual([`${bomb}: is not valid YAML or JSON: aliases (*name) are not allowed (2:6)`]);
    expect((await run("validate")).code).toBe(2);
  });
});

describe("mcp-warden policy import", () => {
  it("turns a PolicyLayer document into an McpPolicy that reads back to the same rules", async () => {
    const result = await run("import", example("mockloop.policylayer.json"), "--namespace", "agents", "--selector", "app.kubernetes.io/name=mockloop-mcp,tier=tools");
    expect(result.code).toBe(0);
    expect(result.stdout[0]).toMatch(/^# Imported from the PolicyLayer document mockloop\.policylayer\.json/);
    const read = readMcpPolicy(load(result.stdout.join("\n")), testCache());
    if (!read.ok) throw new Error(JSON.stringify(read.problems));
    expect(read.policy.metadata).toEqual({ name: "mockloop", namespace: "agents" });
    expect(read.policy.spec).toEqual({
      selector: { matchLabels: { "app.kubernetes.io/name": "mockloop-mcp", tier: "tools" } },
      default: "deny",
      tools: { run_test_iteration: { limits: [{ counter: "run_test_iteration_rate", window: "minute", max: 10, scope: "grant" }] } },
    });
  });

  it("selects every pod when no selector is given, and says so", async () => {
    const result = await run("import", example("mock-mcp.policylayer.json"), "--name", "mock");
    expect(result.code).toBe(0);
    expect(result.stderr).toEqual(["note: no --selector, so the policy selects every pod in its namespace"]);
    expect(load(result.stdout.join("\n"))).toMatchObject({ metadata: { name: "mock" }, spec: { selector: {}, tools: { list_runs: {} } } });
  });

  it("says how to get per-agent budgets when the document has per-grant limits", async () => {
    const result = await run("import", example("mockloop.policylayer.json"), "--selector", "app=mockloop");
    expect(result.code).toBe(0);
    expect(result.stderr).toEqual([expect.stringMatching(/^note: PolicyLayer tracks limits per agent session; .*add spec\.identity — \{source: header, header: x-agent-id\}/)]);
  });

  it("exits 2 for bad flags and 1 for a document with problems", async () => {
    expect((await run("import", example("mockloop.policylayer.json"), "--selector", "novalue")).code).toBe(2);
    expect((await run("import", example("mockloop.policylayer.json"), "--selector", "a=b c")).code).toBe(2);
    expect((await run("import", example("mockloop.policylayer.json"), "--name", "Not_Valid")).code).toBe(2);
    expect((await run("import", example("mockloop.policylayer.json"), "--namespace", "a.b")).code).toBe(2);
    const broken = file("broken.policylayer.json", '{"version":"1","tools":{"x":{"rate_limit":{"max":1}}}}');
    expect(await run("import", broken)).toEqual({
      code: 1,
      stdout: [],
      stderr: [`${broken}: tools["x"].rate_limit: unknown field (rate limits are written limits: [{counter, window, max, scope}])`],
    });
    expect((await run("import", example("mockloop.yaml"))).stderr).toEqual([
      `${example("mockloop.yaml")}: is already an McpPolicy; import reads PolicyLayer JSON`,
    ]);
  });
});

describe("mcp-warden policy test", () => {
  const lines = (calls: object[]) => file(`calls-${Math.random().toString(36).slice(2)}.jsonl`, calls.map((call) => JSON.stringify(call)).join("\n") + "\n");
  const at = (seconds: number) => new Date(Date.UTC(2026, 10, 22, 10, 0, seconds)).toISOString();

  it("replays seed 000: the 11th call in a rolling minute is rate limited, another grant is not, the window slides", async () => {
    const calls = [
      ...Array.from({ length: 11 }, (_, index) => ({ tool: "run_test_iteration", identity: "alice", at: at(index) })),
      { tool: "run_test_iteration", identity: "bob", at: at(11) },
      { tool: "list_runs", identity: "alice", at: at(12) },
      { tool: "run_test_iteration", identity: { id: "alice" }, session: "s1", arguments: { iterations: 1 }, at: at(60) },
    ];
    const result = await run("test", example("mockloop.yaml"), "--calls", lines(calls));
    expect(result.code).toBe(0);
    const decisions = result.stdout.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(decisions.map((decision) => decision["decision"])).toEqual([...Array(10).fill("allow"), "rate_limited", "allow", "deny", "allow"]);
    expect(decisions[10]).toEqual({
      decision: "rate_limited",
      policy: "agents/mockloop",
      rule: 'tools["run_test_iteration"].limits[0]',
      reason: "rate limit run_test_iteration_rate reached: at most 10 calls per minute per grant",
      retryAfterSeconds: 50,
    });
    expect(decisions[12]).toEqual({ decision: "deny", policy: "agents/mockloop", rule: "default", reason: "this tool is not allowed (default: deny)" });
    expect(Object.keys(decisions[0] ?? {})).toEqual(["decision", "policy", "rule", "reason"]);
  });

  it("replays seed 002 and shows audit policies' would-be decisions", async () => {
    const audit = file("audit.yaml", `${header}metadata: {name: watch, namespace: agents}\nspec:\n  mode: audit\n  default: deny\n`);
    const result = await run("test", example("mock-mcp.yaml"), audit, "--calls", lines([{ tool: "list_runs" }, { tool: "List_Runs" }]));
    expect(result.stdout.map((line) => JSON.parse(line) as unknown)).toEqual([
      {
        decision: "allow",
        policy: "agents/mock-mcp",
        rule: 'tools["list_runs"]',
        reason: "allowed",
        audit: [{ decision: "deny", policy: "agents/watch", rule: "default", reason: "this tool is not allowed (default: deny)" }],
      },
      {
        decision: "deny",
        policy: "agents/mock-mcp",
        rule: "default",
        reason: "this tool is not allowed (default: deny)",
        audit: [{ decision: "deny", policy: "agents/watch", rule: "default", reason: "this tool is not allowed (default: deny)" }],
      },
    ]);
  });

  it("exits 2 listing every bad line of the calls file (a usage error, not a failed expectation), and 2 without --calls", async () => {
    const calls = file(
      "bad-calls.jsonl",
      [
        '{"tool":"a","at":"2026-01-01T00:00:10Z"}',
        "not json",
        '{"tool":1}',
        '{"tool":"a","when":"now"}',
        '{"tool":"a","at":"yesterday"}',
        '{"tool":"a","at":"2026-01-01T00:00:00Z"}',
        '{"tool":"a","identity":{"id":1}}',
        "",
      ].join("\n"),
    );
    const result = await run("test", example("mockloop.yaml"), "--calls", calls);
    expect(result.code).toBe(2);
    expect(result.stdout).toEqual([]);
    expect(result.stderr).toEqual([
      expect.stringMatching(new RegExp(`^${calls}:2: not JSON: `)),
      `${calls}:3: tool: must be a string`,
      `${calls}:4: unknown field "when" (allowed: tool, arguments, identity, session, at, listed, expect)`,
      `${calls}:5: at: "yesterday" is not an ISO 8601 time with a zone (e.g. 2026-01-01T10:00:00Z)`,
      `${calls}:6: at: 2026-01-01T00:00:00Z is earlier than the previous call; calls must be in time order`,
      `${calls}:7: identity: must be an id or {"id", "claims"}`,
    ]);
    expect((await run("test", example("mockloop.yaml"))).code).toBe(2);
  });

  it("gives conditions the caller's claims", async () => {
    const policy = file(
      "claims.yaml",
      `${header}metadata: {name: claims}\nspec:\n  tools:\n    deploy: {when: "'ops' in identity.claims.groups && session.id == 's'"}\n`,
    );
    const result = await run(
      "test",
      policy,
      "--calls",
      lines([
        { tool: "deploy", identity: { id: "a", claims: { groups: ["ops"] } }, session: "s" },
        { tool: "deploy", identity: { id: "b", claims: { groups: [] } }, session: "s" },
      ]),
    );
    expect(result.stdout.map((line) => (JSON.parse(line) as { decision: string }).decision)).toEqual(["allow", "deny"]);
  });

  describe("with expectations", () => {
    const rateLimited = { decision: "rate_limited", rule: 'tools["run_test_iteration"].limits[0]', retryAfterSeconds: 50 };
    const seed000 = (eleventh: object, bob: object = { decision: "allow" }) => [
      { tool: "run_test_iteration", identity: "alice", at: at(0), expect: { decision: "allow", policy: "agents/mockloop" } },
      ...Array.from({ length: 9 }, (_, index) => ({ tool: "run_test_iteration", identity: "alice", at: at(index + 1) })),
      { tool: "run_test_iteration", identity: "alice", at: at(10), expect: eleventh },
      { tool: "run_test_iteration", identity: "bob", at: at(11), expect: bob },
    ];

    it("counts the calls that state what they must get and exits 0 when all pass", async () => {
      const result = await run("test", example("mockloop.yaml"), "--calls", lines(seed000(rateLimited)));
      expect(result).toEqual({ code: 0, stdout: ["3 passed, 0 failed"], stderr: [] });
    });

    it("shows a diff per mismatch and exits 1", async () => {
      const calls = lines(seed000({ ...rateLimited, retryAfterSeconds: 30 }, { decision: "rate_limited" }));
      const result = await run("test", example("mockloop.yaml"), "--calls", calls);
      expect(result.code).toBe(1);
      expect(result.stdout).toEqual([
        `FAIL ${calls}:11: run_test_iteration by alice at 2026-11-22T10:00:10.000Z`,
        '    decision: "rate_limited"',
        '    rule: "tools[\\"run_test_iteration\\"].limits[0]"',
        "  - retryAfterSeconds: 30",
        "  + retryAfterSeconds: 50",
        expect.stringMatching(/^ {4}got: \{"decision":"rate_limited",.*"retryAfterSeconds":50\}$/),
        `FAIL ${calls}:12: run_test_iteration by bob at 2026-11-22T10:00:11.000Z`,
        '  - decision: "rate_limited"',
        '  + decision: "allow"',
        expect.stringMatching(/^ {4}got: \{"decision":"allow",/),
        "1 passed, 2 failed",
      ]);
    });

    it("-o json gives every call, its decision and its mismatches in one document", async () => {
      const result = await run("test", example("mockloop.yaml"), "--calls", lines(seed000(rateLimited, { decision: "deny" })), "-o", "json");
      expect(result.code).toBe(1);
      const report = JSON.parse(result.stdout.join("\n")) as { passed: number; failed: number; results: { line: number; decision: { decision: string }; mismatches?: unknown[] }[] };
      expect([report.passed, report.failed, report.results.length]).toEqual([2, 1, 12]);
      expect(report.results[1]).not.toHaveProperty("mismatches");
      expect(report.results[11]).toMatchObject({ line: 12, decision: { decision: "allow" }, mismatches: [{ field: "decision", expected: "deny", actual: "allow" }] });
    });

    it("an unknown decision or field in expect is an error naming the line and the field (exit 2)", async () => {
      const calls = lines([
        { tool: "a", expect: { decision: "rate-limited" } },
        { tool: "a", expect: { verdict: "allow" } },
        { tool: "a", expect: {} },
        { tool: "a", expect: { retryAfterSeconds: 0.5 } },
        { tool: "a", expect: "allow" },
      ]);
      const result = await run("test", example("mockloop.yaml"), "--calls", calls);
      expect(result.code).toBe(2);
      expect(result.stdout).toEqual([]);
      expect(result.stderr).toEqual([
        `${calls}:1: expect.decision: "rate-limited" is not a decision (allow, deny, rate_limited, invalid_arguments, approval_required, definition_changed)`,
        `${calls}:2: expect: unknown field "verdict" (allowed: decision, policy, rule, reason, retryAfterSeconds)`,
        `${calls}:3: expect: names nothing to check; give at least one of decision, policy, rule, reason, retryAfterSeconds`,
        `${calls}:4: expect.retryAfterSeconds: must be a whole number of seconds from 1`,
        `${calls}:5: expect: must be an object {"decision", "policy", "rule", "reason", "retryAfterSeconds"}`,
      ]);
    });
  });

  describe("--coverage", () => {
    const policies = () => [
      file("cover-a.yaml", `${header}metadata: {name: a, namespace: agents}\nspec:\n  default: deny\n  hide: ["debug_*"]\n  tools:\n    list_runs: {}\n    "run_*": {}\n    deploy: {action: deny}\n`),
      file("cover-b.yaml", `${header}metadata: {name: b, namespace: agents}\nspec:\n  default: allow\n  tools:\n    list_runs: {action: deny}\n`),
    ];

    it("lists the rules no policy's evaluation matched, counting a rule outvoted by another policy's deny as exercised", async () => {
      // list_runs: a allows, b denies; the combined decision is b's deny, and a's rule was still reached.
      const result = await run("test", ...policies(), "--calls", lines([{ tool: "list_runs" }, { tool: "debug_dump" }]), "--coverage");
      expect(result.code).toBe(0);
      expect(result.stdout.slice(0, 2).map((line) => (JSON.parse(line) as { decision: string; policy: string }).policy)).toEqual(["agents/b", "agents/a"]);
      expect(result.stdout.slice(2)).toEqual([
        "coverage: 4 of 7 rules exercised",
        '  not exercised: agents/a tools["deploy"]',
        '  not exercised: agents/a tools["run_*"]',
        "  not exercised: agents/a default",
      ]);
    });

    it("with expectations, after the summary; in JSON, as a field", async () => {
      const calls = lines([{ tool: "deploy", expect: { decision: "deny", rule: 'tools["deploy"]' } }]);
      const text = await run("test", ...policies(), "--calls", calls, "--coverage");
      expect(text.stdout.slice(0, 2)).toEqual(["1 passed, 0 failed", "coverage: 2 of 7 rules exercised"]);
      const json = await run("test", ...policies(), "--calls", calls, "--coverage", "-o", "json");
      expect((JSON.parse(json.stdout.join("\n")) as { coverage: unknown }).coverage).toEqual({
        rules: 7,
        exercised: 2,
        notExercised: [
          { policy: "agents/a", rule: "hide[0]" },
          { policy: "agents/a", rule: 'tools["list_runs"]' },
          { policy: "agents/a", rule: 'tools["run_*"]' },
          { policy: "agents/a", rule: "default" },
          { policy: "agents/b", rule: 'tools["list_runs"]' },
        ],
      });
    });
  });
});
