// The McpPolicy CRD against the real kube-apiserver: it installs, the samples round-trip,
// `kubectl apply` rejects nonsense naming the field, and `kubectl explain` and
// `kubectl get` read well. What the API server prints is what users see, so the
// assertions quote it.
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { load } from "js-yaml";
import { applyCrds, createNamespace, kubectl } from "../harness/index.ts";

type Json = null | boolean | number | string | Json[] | JsonObject;
interface JsonObject {
  [key: string]: Json;
}

const repoFile = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const crdPath = repoFile("crds/mcpwarden.dev_mcppolicies.yaml");
const fieldManager = "crd-acceptance-test";

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asObject(value: unknown, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what} is not an object`);
  return value;
}

function readYamlObject(path: string): JsonObject {
  return asObject(load(readFileSync(path, "utf8")), path);
}

function policyDocument(namespace: string, name: string, spec: JsonObject): JsonObject {
  return { apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpPolicy", metadata: { name, namespace }, spec };
}

async function apply(document: JsonObject): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(["apply", "--server-side", `--field-manager=${fieldManager}`, "-f", "-"], { input: JSON.stringify(document) });
}

async function mustSucceed(args: string[], opts: { input?: string; namespace?: string } = {}): Promise<string> {
  const result = await kubectl(args, opts);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

async function readPolicy(namespace: string, name: string): Promise<JsonObject> {
  return asObject(JSON.parse(await mustSucceed(["get", "mcppolicy", name, "-o", "json"], { namespace })), "McpPolicy");
}

/** Objects merge key by key; anything else (arrays included) is replaced, as defaulting does. */
function withDefaults(applied: Json, defaults: Json): Json {
  if (!isObject(applied) || !isObject(defaults)) return defaults;
  const merged: JsonObject = { ...applied };
  for (const [key, value] of Object.entries(defaults)) {
    const current = merged[key];
    merged[key] = current === undefined ? value : withDefaults(current, value);
  }
  return merged;
}

/** A deep copy with the value at `path` replaced, or removed when `value` is undefined. */
function withValueAt(root: JsonObject, path: readonly (string | number)[], value: Json | undefined): JsonObject {
  const copy = structuredClone(root);
  let node: Json = copy;
  for (const step of path.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(node) ? node[Number(step)] : isObject(node) ? node[String(step)] : undefined;
    if (next === undefined) throw new Error(`no ${String(step)} in ${path.join(".")}`);
    node = next;
  }
  const last = path.at(-1);
  if (last === undefined) throw new Error("empty path");
  if (Array.isArray(node) && typeof last === "number") {
    if (value === undefined) node.splice(last, 1);
    else node[last] = value;
  } else if (isObject(node)) {
    if (value === undefined) delete node[String(last)];
    else node[String(last)] = value;
  } else throw new Error(`cannot set ${path.join(".")}`);
  return copy;
}

function renameKey(object: JsonObject, from: string, to: string): JsonObject {
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key === from ? to : key, value]));
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const normalizeSpace = (text: string): string => text.replace(/\s+/g, " ").trim();

// A policy that uses every field, so each invalid case below changes one field of an
// otherwise valid document.
const validSpec: JsonObject = {
  selector: {
    matchLabels: { "app.kubernetes.io/name": "mockloop-mcp" },
    matchExpressions: [{ key: "mcpwarden.dev/tier", operator: "In", values: ["mcp"] }],
  },
  mode: "enforce",
  default: "deny",
  hide: ["debug_*"],
  networkPolicy: "disabled",
  identity: { source: "header", header: "x-agent-id" },
  allTools: { limits: [{ counter: "all_calls", window: 60, max: 100, scope: "global" }] },
  tools: {
    run_test_iteration: {
      action: "allow",
      reason: "test runs are rate-capped",
      limits: [{ counter: "run_test_iteration_rate", window: "minute", max: 10, scope: "grant" }],
      arguments: { type: "object", properties: { iterations: { type: "integer", maximum: 5 } } },
      when: "args.target.startsWith('staging-')",
    },
    "deploy_*": { action: "approve", approval: { timeout: "10m" } },
    list_runs: {},
  },
  toolDefinitions: { mode: "pin", pins: { list_runs: `sha256:${"0123456789abcdef".repeat(4)}` } },
  validateServerSchema: true,
  advertiseConstraints: false,
};

const validJwtIdentity: JsonObject = {
  source: "jwt",
  jwt: { issuer: "https://issuer.example", audiences: ["mcp"], jwksUri: "https://issuer.example/jwks", claim: "sub" },
};

interface InvalidCase {
  name: string;
  /** Where the field lives under spec. */
  at: readonly (string | number)[];
  /** The broken value; undefined means the field is left out. */
  bad: Json | undefined;
  /** The fix: the only difference from the broken document. */
  good: Json | undefined;
  /** A spec to start from instead of validSpec (for cases that need another identity). */
  base?: JsonObject;
  /** The field path exactly as the API server prints it, and its message. */
  path: string;
  message: string;
}

const windowMessage = "window must be second, minute, hour or day, a duration from 1s to 720h such as 90s or 15m, or a whole number of seconds from 1 to 2592000";

const invalidCases: InvalidCase[] = [
  { name: "max of zero", at: ["tools", "run_test_iteration", "limits", 0, "max"], bad: 0, good: 10, path: "spec.tools.run_test_iteration.limits[0].max", message: "should be greater than or equal to 1" },
  { name: "negative max", at: ["tools", "run_test_iteration", "limits", 0, "max"], bad: -5, good: 10, path: "spec.tools.run_test_iteration.limits[0].max", message: "should be greater than or equal to 1" },
  { name: "max above the log's cap", at: ["allTools", "limits", 0, "max"], bad: 100_001, good: 100_000, path: "spec.allTools.limits[0].max", message: "should be less than or equal to 100000" },
  { name: "unknown action", at: ["tools", "run_test_iteration", "action"], bad: "permit", good: "deny", path: "spec.tools.run_test_iteration.action", message: 'Unsupported value: "permit": supported values: "allow", "deny", "approve"' },
  { name: "unknown scope", at: ["tools", "run_test_iteration", "limits", 0, "scope"], bad: "tenant", good: "session", path: "spec.tools.run_test_iteration.limits[0].scope", message: 'Unsupported value: "tenant": supported values: "grant", "session", "global"' },
  { name: "window like fortnight", at: ["tools", "run_test_iteration", "limits", 0, "window"], bad: "fortnight", good: "hour", path: "spec.tools[run_test_iteration].limits[0].window", message: windowMessage },
  { name: "window of zero seconds", at: ["allTools", "limits", 0, "window"], bad: 0, good: 1, path: "spec.allTools.limits[0].window", message: windowMessage },
  { name: "window duration over 720h", at: ["allTools", "limits", 0, "window"], bad: "721h", good: "1h30m", path: "spec.allTools.limits[0].window", message: windowMessage },
  { name: "window duration without a unit", at: ["allTools", "limits", 0, "window"], bad: "60", good: 60, path: "spec.allTools.limits[0].window", message: windowMessage },
  { name: "fractional window in seconds", at: ["allTools", "limits", 0, "window"], bad: 1.5, good: "1500ms", path: "spec.allTools.limits[0].window", message: "must be of type integer,string" },
  { name: "default: maybe", at: ["default"], bad: "maybe", good: "allow", path: "spec.default", message: 'Unsupported value: "maybe": supported values: "deny", "allow"' },
  { name: "missing selector", at: ["selector"], bad: undefined, good: { matchLabels: { "app.kubernetes.io/name": "mockloop-mcp" } }, path: "spec.selector", message: "Required value" },
  { name: "a limit without counter", at: ["tools", "run_test_iteration", "limits", 0, "counter"], bad: undefined, good: "run_test_iteration_rate", path: "spec.tools.run_test_iteration.limits[0].counter", message: "Required value" },
  { name: "approve without approval", at: ["tools", "deploy_*", "approval"], bad: undefined, good: { timeout: "10m" }, path: "spec.tools[deploy_*].approval.timeout", message: "approval.timeout is required when action is approve" },
  { name: "approve with an approval but no timeout", at: ["tools", "deploy_*", "approval", "timeout"], bad: undefined, good: "10m", path: "spec.tools.deploy_*.approval.timeout", message: "Required value" },
  { name: "approval.timeout of 25h", at: ["tools", "deploy_*", "approval", "timeout"], bad: "25h", good: "24h", path: "spec.tools[deploy_*].approval.timeout", message: "approval.timeout must be from 1s to 24h" },
  { name: "approval.timeout under 1s", at: ["tools", "deploy_*", "approval", "timeout"], bad: "500ms", good: "1s", path: "spec.tools[deploy_*].approval.timeout", message: "approval.timeout must be from 1s to 24h" },
  { name: "approval.timeout that is no duration", at: ["tools", "deploy_*", "approval", "timeout"], bad: "ten minutes", good: "1h30m", path: "spec.tools[deploy_*].approval.timeout", message: "approval.timeout must be a duration such as 30s, 10m or 1h30m" },
  { name: "approval on a rule that does not approve", at: ["tools", "run_test_iteration", "approval"], bad: { timeout: "10m" }, good: undefined, path: "spec.tools[run_test_iteration].approval", message: "approval is only used when action is approve" },
  { name: "an empty tool name", at: ["tools"], bad: renameKey(asObject(validSpec["tools"], "tools"), "list_runs", ""), good: validSpec["tools"] ?? null, path: "spec.tools", message: "tool names (the keys of spec.tools) must not be empty" },
  { name: "wrong mode", at: ["mode"], bad: "block", good: "audit", path: "spec.mode", message: 'Unsupported value: "block": supported values: "enforce", "audit"' },
  { name: "when over 1024 characters", at: ["tools", "run_test_iteration", "when"], bad: `args.x == '${"a".repeat(1020)}'`, good: `args.x == '${"a".repeat(1010)}'`, path: "spec.tools.run_test_iteration.when", message: "Too long: may not be more than 1024" },
  { name: "an empty hide entry", at: ["hide", 0], bad: "", good: "debug_*", path: "spec.hide[0]", message: "should be at least 1 chars long" },
  { name: "networkPolicy: on", at: ["networkPolicy"], bad: "on", good: "enabled", path: "spec.networkPolicy", message: 'Unsupported value: "on": supported values: "enabled", "disabled"' },
  { name: "unknown identity.source", at: ["identity", "source"], bad: "cookie", good: "header", path: "spec.identity.source", message: 'Unsupported value: "cookie": supported values: "jwt", "header", "session", "none"' },
  { name: "source header without identity.header", at: ["identity", "header"], bad: undefined, good: "x-agent-id", path: "spec.identity.header", message: "identity.header is required when identity.source is header" },
  { name: "source jwt without identity.jwt", base: { ...validSpec, identity: validJwtIdentity }, at: ["identity", "jwt"], bad: undefined, good: validJwtIdentity["jwt"] ?? null, path: "spec.identity.jwt", message: "identity.jwt is required when identity.source is jwt" },
  { name: "a jwt without audiences", base: { ...validSpec, identity: validJwtIdentity }, at: ["identity", "jwt", "audiences"], bad: [], good: ["mcp"], path: "spec.identity.jwt.audiences", message: "should have at least 1 items" },
  { name: "unknown toolDefinitions.mode", at: ["toolDefinitions", "mode"], bad: "lock", good: "audit", path: "spec.toolDefinitions.mode", message: 'Unsupported value: "lock": supported values: "pin", "audit", "off"' },
  {
    name: "a malformed pin",
    at: ["toolDefinitions", "pins", "list_runs"],
    bad: "sha256:0123",
    good: `sha256:${"f".repeat(64)}`,
    path: "spec.toolDefinitions.pins.list_runs",
    message: "should match '^sha256:[0-9a-f]{64}$'",
  },
  { name: "a pin for an empty tool name", at: ["toolDefinitions", "pins", ""], bad: `sha256:${"f".repeat(64)}`, good: undefined, path: "spec.toolDefinitions.pins", message: "tool names (the keys of spec.toolDefinitions.pins) must be 1 to 512 characters" },
  { name: "In without values", at: ["selector", "matchExpressions", 0, "values"], bad: undefined, good: ["mcp"], path: "spec.selector.matchExpressions[0].values", message: "values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist" },
];

const samples: ReadonlyArray<{ file: string; original: string; defaultsAdded: JsonObject }> = [
  {
    file: "examples/policies/mockloop.yaml",
    original: "examples/policies/mockloop.policylayer.json",
    defaultsAdded: { networkPolicy: "disabled", tools: { run_test_iteration: { action: "allow" } } },
  },
  {
    file: "examples/policies/mock-mcp.yaml",
    original: "examples/policies/mock-mcp.policylayer.json",
    defaultsAdded: { networkPolicy: "disabled", tools: { list_runs: { action: "allow" } } },
  },
];

const crd = readYamlObject(crdPath);

function openApiSchema(): JsonObject {
  const versions = asObject(crd["spec"], "CRD spec")["versions"];
  if (!Array.isArray(versions) || versions.length !== 1) throw new Error("expected exactly one CRD version");
  return asObject(asObject(asObject(versions[0], "version")["schema"], "schema")["openAPIV3Schema"], "openAPIV3Schema");
}

/** The schema node kubectl explain shows for a dotted path (maps and lists are looked through). */
function schemaAt(dottedPath: string): JsonObject {
  let node = openApiSchema();
  for (const field of dottedPath.split(".")) {
    node = asObject(asObject(node["properties"], `properties above ${field}`)[field], field);
    while (isObject(node["items"]) || isObject(node["additionalProperties"])) {
      node = asObject(node["items"] ?? node["additionalProperties"], `element of ${field}`);
    }
  }
  return node;
}

function description(node: JsonObject, where: string): string {
  const text = node["description"];
  if (typeof text !== "string") throw new Error(`${where} has no description`);
  return text;
}

describe("McpPolicy CRD", () => {
  beforeAll(async () => {
    await applyCrds();
  });

  it("installs and becomes Established with its names, short name and category", async () => {
    const installed = asObject(JSON.parse(await mustSucceed(["get", "crd", "mcppolicies.mcpwarden.dev", "-o", "json"])), "CRD");
    const status = asObject(installed["status"], "CRD status");
    const conditions = Array.isArray(status["conditions"]) ? status["conditions"].filter(isObject) : [];
    const statusOf = (type: string): Json | undefined => conditions.find((c) => c["type"] === type)?.["status"];
    expect(statusOf("Established")).toBe("True");
    expect(statusOf("NamesAccepted")).toBe("True");
    expect(status["acceptedNames"]).toMatchObject({ kind: "McpPolicy", plural: "mcppolicies", singular: "mcppolicy", shortNames: ["mcpp"], categories: ["mcpwarden"] });

    const namespace = await createNamespace("crd-names");
    await mustSucceed(["apply", "--server-side", `--field-manager=${fieldManager}`, "-f", "-"], { input: JSON.stringify(policyDocument(namespace, "named", { selector: {} })) });
    for (const resource of ["mcpp", "mcppolicies.mcpwarden.dev", "mcpwarden"]) {
      expect(await mustSucceed(["get", resource, "-o", "name"], { namespace })).toBe("mcppolicy.mcpwarden.dev/named\n");
    }
  });

  describe("samples round-trip", () => {
    it.for(samples)("$file applies and reads back as written, plus the documented defaults", async ({ file, defaultsAdded }) => {
      const sample = readYamlObject(repoFile(file));
      expect(asObject(sample["metadata"], "metadata")["namespace"]).toBe("agents");
      const namespace = await createNamespace("crd-sample");
      const applied = structuredClone(sample);
      asObject(applied["metadata"], "metadata")["namespace"] = namespace;
      const result = await apply(applied);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);

      const stored = await readPolicy(namespace, String(asObject(sample["metadata"], "metadata")["name"]));
      expect(stored["spec"]).toEqual(withDefaults(sample["spec"] ?? null, defaultsAdded));
      expect(stored["status"]).toBeUndefined();
    });

    it.for(samples)("$file means what its PolicyLayer original says", ({ file, original }) => {
      // The originals are not CRs; their rules must match the McpPolicy's word for word.
      const policyLayer = asObject(JSON.parse(readFileSync(repoFile(original), "utf8")), original);
      const spec = asObject(readYamlObject(repoFile(file))["spec"], "spec");
      expect(policyLayer["version"]).toBe("1");
      expect(spec["default"]).toBe(policyLayer["default"]);
      expect(spec["tools"]).toEqual(policyLayer["tools"]);
    });

    it("fills in every documented default", async () => {
      const namespace = await createNamespace("crd-defaults");
      const spec: JsonObject = {
        selector: {},
        identity: { source: "jwt", jwt: { issuer: "https://issuer.example", audiences: ["mcp"], jwksUri: "https://issuer.example/jwks" } },
        allTools: { limits: [{ counter: "all", window: "day", max: 1000 }] },
        tools: { "read_*": {}, deploy: { action: "approve", approval: { timeout: "1s" }, limits: [{ counter: "deploys", window: 3600, max: 3 }] } },
      };
      const result = await apply(policyDocument(namespace, "defaults", spec));
      expect(result.stderr).toBe("");
      // Written without a mode, toolDefinitions is off; the two options are not defaulted at all.
      const definitions = await apply(policyDocument(namespace, "definitions", { selector: {}, toolDefinitions: { pins: {} } }));
      expect(definitions.stderr).toBe("");
      expect((await readPolicy(namespace, "definitions"))["spec"]).toEqual({ selector: {}, mode: "enforce", default: "deny", networkPolicy: "disabled", toolDefinitions: { mode: "off", pins: {} } });
      expect((await readPolicy(namespace, "defaults"))["spec"]).toEqual({
        selector: {},
        mode: "enforce",
        default: "deny",
        networkPolicy: "disabled",
        identity: { source: "jwt", jwt: { issuer: "https://issuer.example", audiences: ["mcp"], jwksUri: "https://issuer.example/jwks", claim: "sub" } },
        allTools: { limits: [{ counter: "all", window: "day", max: 1000, scope: "grant" }] },
        tools: {
          "read_*": { action: "allow" },
          deploy: { action: "approve", approval: { timeout: "1s" }, limits: [{ counter: "deploys", window: 3600, max: 3, scope: "grant" }] },
        },
      });
    });
  });

  describe("kubectl apply rejects an invalid policy naming the field, and accepts it once that field is fixed", () => {
    it("starts from a document the API server accepts as is", async () => {
      const namespace = await createNamespace("crd-valid");
      const result = await apply(policyDocument(namespace, "valid", validSpec));
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
    });

    it.for(invalidCases)("$name", async (invalid) => {
      const namespace = await createNamespace("crd-invalid");
      const base = invalid.base ?? validSpec;

      const rejected = await apply(policyDocument(namespace, "policy", withValueAt(base, invalid.at, invalid.bad)));
      expect(rejected.code).not.toBe(0);
      expect(rejected.stderr).toContain('The McpPolicy "policy" is invalid');
      // The path must appear as a whole (not as the tail of a longer one), then its message.
      expect(rejected.stderr).toMatch(new RegExp(`(^|[\\s*])${escapeRegExp(invalid.path)}: [^\\n]*${escapeRegExp(invalid.message)}`, "m"));
      expect(await mustSucceed(["get", "mcppolicies", "-o", "name"], { namespace })).toBe("");

      const accepted = await apply(policyDocument(namespace, "policy", withValueAt(base, invalid.at, invalid.good)));
      expect(accepted.stderr).toBe("");
      expect(accepted.code).toBe(0);
    });
  });

  describe("reads well", () => {
    it("has a description on every field", () => {
      const missing: string[] = [];
      const visit = (node: JsonObject, path: string): void => {
        // The API server forbids anything but the type on metadata (kubectl shows ObjectMeta's docs).
        if (path !== "metadata" && path !== "" && typeof node["description"] !== "string") missing.push(path);
        for (const [name, child] of Object.entries(isObject(node["properties"]) ? node["properties"] : {})) {
          visit(asObject(child, name), path === "" ? name : `${path}.${name}`);
        }
        if (isObject(node["items"])) visit(node["items"], `${path}[]`);
        if (isObject(node["additionalProperties"])) visit(node["additionalProperties"], `${path}{}`);
      };
      visit(openApiSchema(), "");
      expect(missing).toEqual([]);
      // The root's description is what `kubectl explain mcppolicy` starts with.
      expect(description(openApiSchema(), "the root")).toMatch(/^McpPolicy decides/);
    });

    it("uses one limit schema for allTools.limits and tools.*.limits", () => {
      expect(schemaAt("spec.tools.limits")).toEqual(schemaAt("spec.allTools.limits"));
    });

    it.for(["spec.tools", "spec.tools.limits", "spec.identity", "spec.tools.approval", "spec.toolDefinitions"])("kubectl explain mcppolicy.%s shows the field's and its children's descriptions", async (field) => {
      const explained = normalizeSpace(await mustSucceed(["explain", `mcppolicy.${field}`]));
      const node = schemaAt(field);
      expect(explained).toContain(normalizeSpace(description(node, field)));
      for (const [name, child] of Object.entries(isObject(node["properties"]) ? node["properties"] : {})) {
        expect(explained, `${field}.${name}`).toContain(normalizeSpace(description(asObject(child, name), `${field}.${name}`)));
      }
    });

    it("shows mode, default, conditions and pods in kubectl get, with status written only through the status subresource", async () => {
      const namespace = await createNamespace("crd-status");
      await mustSucceed(["apply", "--server-side", `--field-manager=${fieldManager}`, "-f", "-"], { input: JSON.stringify(policyDocument(namespace, "shown", { selector: {}, mode: "audit" })) });
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      const condition = (type: string, status: string, reason: string): JsonObject => ({ type, status, reason, message: reason, lastTransitionTime: now, observedGeneration: 1 });
      const status: JsonObject = {
        observedGeneration: 1,
        conditions: [condition("Accepted", "True", "Valid"), condition("Programmed", "False", "PodsOutOfSync")],
        targets: { pods: 3, inSync: 2, unprotected: 1 },
      };
      await mustSucceed(["patch", "mcppolicy", "shown", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status })], { namespace });

      const table = (await mustSucceed(["get", "mcpp", "shown"], { namespace })).trim().split("\n").map((line) => line.trim().split(/\s+/));
      expect(table[0]).toEqual(["NAME", "MODE", "DEFAULT", "ACCEPTED", "PROGRAMMED", "PODS", "AGE"]);
      expect(table[1]?.slice(0, 6)).toEqual(["shown", "audit", "deny", "True", "False", "3"]);
      const wide = (await mustSucceed(["get", "mcpp", "shown", "-o", "wide"], { namespace })).trim().split("\n").map((line) => line.trim().split(/\s+/));
      expect(wide[0]).toEqual(["NAME", "MODE", "DEFAULT", "ACCEPTED", "PROGRAMMED", "PODS", "IN-SYNC", "UNPROTECTED", "AGE"]);
      expect(wide[1]?.slice(0, 8)).toEqual(["shown", "audit", "deny", "True", "False", "3", "2", "1"]);

      // Status sent to the main resource is dropped, and status writes leave generation alone.
      await mustSucceed(["patch", "mcppolicy", "shown", "--type=merge", "-p", JSON.stringify({ status: { targets: { pods: 99 } } })], { namespace });
      const stored = await readPolicy(namespace, "shown");
      expect(stored["status"]).toEqual(status);
      expect(asObject(stored["metadata"], "metadata")["generation"]).toBe(1);

      // Conditions are a map keyed by type: a second Accepted is refused.
      const duplicated = await kubectl(["patch", "mcppolicy", "shown", "--subresource=status", "--type=json", "-p", JSON.stringify([{ op: "add", path: "/status/conditions/-", value: condition("Accepted", "False", "Invalid") }])], { namespace });
      expect(duplicated.code).not.toBe(0);
      expect(duplicated.stderr).toMatch(/status\.conditions\[2\]: Duplicate value/);
    });
  });
});
