import { describe, expect, it } from "vitest";
import { compilePolicies } from "./compile-policies.ts";
import type { DecisionTable } from "./decision-table.ts";
import { filterToolsList } from "./filter-tools-list.ts";
import { MCP_POLICY_API_VERSION, MCP_POLICY_KIND, type McpPolicy, type McpPolicySpec } from "./model.ts";
import { testCache } from "../test/support/policy-engines.ts";

function policy(name: string, spec: McpPolicySpec): McpPolicy {
  return { apiVersion: MCP_POLICY_API_VERSION, kind: MCP_POLICY_KIND, metadata: { name, namespace: "agents" }, spec };
}

function table(...policies: McpPolicy[]): DecisionTable {
  const result = compilePolicies(policies, testCache());
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.table;
}

const names = (decisionTable: DecisionTable, tools: string[]) =>
  filterToolsList(decisionTable, tools.map((name) => ({ name, description: `the ${name} tool` }))).map((tool) => tool.name);

describe("filterToolsList", () => {
  it("removes hidden, denied and default-denied tools; keeps approve, limits, arguments and when", () => {
    const listed = table(
      policy("p", {
        default: "deny",
        hide: ["debug_*"],
        tools: {
          "debug_*": {},
          delete: { action: "deny" },
          deploy: { action: "approve", approval: { timeout: "5m" } },
          run: { limits: [{ counter: "run", window: "minute", max: 1 }] },
          checked: { arguments: { type: "object" } },
          conditional: { when: "args.x == 'y'" },
          plain: {},
        },
      }),
    );
    expect(names(listed, ["debug_dump", "delete", "deploy", "run", "checked", "conditional", "plain", "unknown"])).toEqual([
      "deploy",
      "run",
      "checked",
      "conditional",
      "plain",
    ]);
  });

  it("adds up every enforcing policy's hides and denials", () => {
    const combined = table(
      policy("a", { default: "allow", hide: ["secret"] }),
      policy("b", { default: "allow", hide: ["internal_*"], tools: { drop: { action: "deny" } } }),
    );
    expect(names(combined, ["secret", "internal_x", "drop", "keep"])).toEqual(["keep"]);
  });

  it("never filters for audit policies, and keeps the tools' other fields untouched", () => {
    const audited = table(policy("a", { default: "allow" }), policy("dry", { mode: "audit", default: "deny", hide: ["x"] }));
    const tools = [{ name: "x", inputSchema: { type: "object" } }, { name: "y" }];
    expect(filterToolsList(audited, tools)).toEqual(tools);
    expect(filterToolsList(table(policy("dry", { mode: "audit", default: "deny" })), tools)).toEqual(tools);
  });

  it("judges odd names like calls: exact, case-sensitive, globs literal, prototype keys plain", () => {
    const strict = table(policy("p", { default: "deny", tools: { ["__proto__"]: {}, constructor: { action: "deny" as const }, "a[1]": {} } }));
    expect(names(strict, ["__proto__", "constructor", "toString", "a[1]", "a1", "A[1]", "x".repeat(600)])).toEqual(["__proto__", "a[1]"]);
    const malformed = [{ name: 42 }, { name: "__proto__" }] as unknown as { name: string }[];
    expect(filterToolsList(strict, malformed)).toEqual([{ name: "__proto__" }]);
  });
});
