import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatProblem } from "./problems.ts";
import { policiesFromText, readPolicyText } from "./read-policy-text.ts";
import { testCache } from "../test/support/policy-engines.ts";

const example = (file: string) => readFileSync(new URL(`../examples/policies/${file}`, import.meta.url), "utf8");
const layer = { name: "from-file" };

function problemsOf(text: string): string[] {
  const result = policiesFromText(text, layer, testCache());
  return result.ok ? [] : result.problems.map(formatProblem);
}

describe("readPolicyText", () => {
  it("reads every example policy without a problem, in both formats, to the same rules", () => {
    for (const [yaml, json] of [
      ["mockloop.yaml", "mockloop.policylayer.json"],
      ["mock-mcp.yaml", "mock-mcp.policylayer.json"],
    ] as const) {
      const fromYaml = policiesFromText(example(yaml), layer, testCache());
      const fromJson = policiesFromText(example(json), layer, testCache());
      if (!fromYaml.ok || !fromJson.ok) throw new Error(`${yaml}/${json} did not read`);
      expect(fromYaml.policies[0]?.spec.tools).toEqual(fromJson.policies[0]?.spec.tools);
      expect(fromYaml.policies[0]?.spec.default).toEqual(fromJson.policies[0]?.spec.default);
      expect(fromJson.policies[0]?.metadata).toEqual({ name: "from-file" });
    }
  });

  it("reads several documents and tags problems with their document", () => {
    const text = `${example("mockloop.yaml")}\n---\n${example("mock-mcp.yaml")}\n---\n`;
    const result = policiesFromText(text, layer, testCache());
    expect(result.ok && result.policies.map((policy) => policy.metadata.name)).toEqual(["mockloop", "mock-mcp"]);
    const broken = `${example("mockloop.yaml")}\n---\n${example("mock-mcp.yaml").replace("mode: enforce", "mode: loud")}`;
    expect(problemsOf(broken)).toEqual(['document 2: spec.mode: "loud" is not one of enforce | audit']);
  });

  it("refuses aliases (no billion laughs), deep nesting, custom tags and oversized text", () => {
    const bomb = ['a: &a ["x","x"]', "b: &b [*a,*a]", "c: &c [*b,*b]", "d: [*c,*c]"].join("\n");
    expect(problemsOf(bomb)).toEqual([expect.stringMatching(/^is not valid YAML or JSON: aliases \(\*name\) are not allowed/)]);
    expect(problemsOf(`${"[".repeat(100)}${"]".repeat(100)}`)).toEqual([expect.stringContaining("maxDepth")]);
    expect(problemsOf("version: !!js/function 'x'")).toEqual([expect.stringContaining("unknown scalar tag")]);
    expect(problemsOf("a".repeat(4 * 1024 * 1024 + 1))).toEqual([expect.stringContaining("larger than")]);
  });

  it("rejects duplicate keys in YAML and in JSON", () => {
    expect(problemsOf('{"version":"1","default":"deny","default":"allow"}')).toEqual([expect.stringContaining("duplicated mapping key")]);
    expect(problemsOf("apiVersion: mcpwarden.dev/v1alpha1\nkind: McpPolicy\nkind: McpPolicy\n")).toEqual([
      expect.stringContaining("duplicated mapping key"),
    ]);
    expect(problemsOf('{"version":"1","tools":{"a":{},"a":{"action":"deny"}}}')).toEqual([expect.stringContaining("duplicated mapping key")]);
  });

  it("says what a document is not", () => {
    expect(problemsOf("")).toEqual(["holds no policy"]);
    expect(problemsOf("just a string")).toEqual(["is neither an McpPolicy (apiVersion, kind) nor a PolicyLayer document (version)"]);
    expect(problemsOf("[1, 2]")).toEqual(["is neither an McpPolicy (apiVersion, kind) nor a PolicyLayer document (version)"]);
    expect(problemsOf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")).toEqual(
      expect.arrayContaining(['apiVersion: "v1" is not mcpwarden.dev/v1alpha1', 'kind: "ConfigMap" is not McpPolicy']),
    );
  });

  it("reports every document's format", () => {
    const read = readPolicyText(`${example("mockloop.yaml")}\n---\n${example("mock-mcp.policylayer.json")}`, layer, testCache());
    expect(read.ok && read.documents.map((document) => [document.document, document.format])).toEqual([
      [1, "McpPolicy"],
      [2, "PolicyLayer"],
    ]);
  });
});
