// What `make dist` ships, used the way people install CLIs: the single executable with no
// Node.js on PATH, the npm tarball installed into an empty prefix (its commands, kubectl's
// plugin lookup finding kubectl-mcpwarden, `kubectl mcpwarden status` from another
// folder), and an older Node.js (the machine's /usr/bin/node, Node 20) getting one line.
// `make test-integration` runs `make dist` first.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { applyCrds, controlPlane, createNamespace, kubectlOk, repoRoot, run } from "../harness/index.ts";
import { freePort } from "../harness/free-port.ts";
import { calledTools, startFeatureHttpServer, type FeatureHttpServer } from "../support/mcp-feature-server.ts";
import { MCP_PROTOCOL_VERSIONS } from "../../protocol/mcp-protocol-versions.ts";

const manifest = JSON.parse(readFileSync(join(repoRoot(), "package.json"), "utf8")) as { version: string; engines: { node: string } };
const seaDir = join(repoRoot(), "dist", "sea");
const tarball = join(repoRoot(), "dist", `mcp-warden-${manifest.version}.tgz`);
const examples = join(repoRoot(), "examples", "policies");
const scratch = mkdtempSync(join(tmpdir(), "mcpwarden-dist-"));
const children: ChildProcess[] = [];
let upstream: FeatureHttpServer;

const POLICY = `apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: dist }
spec:
  default: deny
  tools:
    echo: {}
`;

beforeAll(async () => {
  for (const file of [join(seaDir, "mcp-warden"), tarball]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run make dist (make test-integration does)`);
  }
  writeFileSync(join(scratch, "policy.yaml"), POLICY);
  upstream = await startFeatureHttpServer();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await upstream.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** A PATH of these folders only, after checking none of them holds a node. */
function pathWithoutNode(...folders: string[]): string {
  for (const folder of folders) expect(existsSync(join(folder, "node")), `${folder} holds a node`).toBe(false);
  return folders.join(delimiter);
}

/** The folder of a program the tests need beside ours (sh for kubectl's plugin lookup needs none). */
const folderOf = (file: string): string => dirname(file);

async function policyTestWorks(command: string, env: NodeJS.ProcessEnv): Promise<void> {
  const result = await run(command, ["policy", "test", join(examples, "mockloop.yaml"), "--calls", join(examples, "mockloop.calls.jsonl")], { env, cwd: scratch });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  const decisions = result.stdout.trim().split("\n").map((line) => (JSON.parse(line) as { decision: string }).decision);
  expect(decisions.filter((decision) => decision === "rate_limited")).toHaveLength(1);
  expect(decisions.at(-2)).toBe("deny");
}

/** `mcp-warden sidecar` in front of the feature server; an SDK client calls through it; `afterCalls` runs before it is stopped. */
async function sidecarWorks(command: string, env: NodeJS.ProcessEnv, afterCalls?: (child: ChildProcess) => Promise<void>): Promise<string> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = spawn(command, ["sidecar", "--listen", `127.0.0.1:${port}`, "--admin", `127.0.0.1:${adminPort}`, "--upstream", upstream.url, "--policy", join(scratch, "policy.yaml")], { env, cwd: scratch, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (data: Buffer) => (output += data.toString()));
  child.stderr!.on("data", (data: Buffer) => (output += data.toString()));
  for (let i = 0; i < 400 && child.exitCode === null; i++) {
    if ((await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined))?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  expect(child.exitCode, output).toBeNull();
  const client = new Client({ name: "dist-test", version: "0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
  expect((await client.callTool({ name: "echo", arguments: { text: "through the bundle" } })).content).toEqual([{ type: "text", text: "through the bundle" }]);
  const before = calledTools(upstream.received).length;
  expect(await client.callTool({ name: "slow", arguments: {} })).toMatchObject({ isError: true, _meta: { "mcpwarden.dev/decision": { decision: "deny", rule: "default" } } });
  expect(calledTools(upstream.received).length).toBe(before);
  await client.close();
  await afterCalls?.(child);
  child.kill("SIGTERM");
  const code = await new Promise<number | null>((resolve) => (child.exitCode === null ? child.on("exit", resolve) : resolve(child.exitCode)));
  expect(code).toBe(0);
  return output;
}

describe("the single executable (dist/sea)", () => {
  const env = (): NodeJS.ProcessEnv => ({ PATH: pathWithoutNode(seaDir), HOME: scratch });

  it("prints its version, commit and MCP protocol versions", async () => {
    const result = await run("mcp-warden", ["--version"], { env: env(), cwd: scratch });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^mcp-warden ${manifest.version.replaceAll(".", "\\.")}\ncommit: [0-9a-f]{12}(-dirty)?\nMCP protocol versions: ${MCP_PROTOCOL_VERSIONS.join(", ")}\n$`));
    const json = await run("mcp-warden", ["version", "-o", "json"], { env: env(), cwd: scratch });
    expect(JSON.parse(json.stdout)).toEqual({ version: manifest.version, commit: expect.stringMatching(/^[0-9a-f]{12}/), mcpProtocolVersions: [...MCP_PROTOCOL_VERSIONS] });
  });

  it("runs policy test with no node on PATH", async () => {
    await policyTestWorks("mcp-warden", env());
  });

  it("runs the sidecar with no node on PATH, an SDK client calling through it, and logs what it is at start", async () => {
    const output = await sidecarWorks("mcp-warden", env());
    const starting = output.split("\n").find((line) => line.includes("starting"));
    expect(JSON.parse(starting ?? "{}")).toMatchObject({ level: "info", app: "mcp-warden-sidecar", version: manifest.version, mcpProtocolVersions: [...MCP_PROTOCOL_VERSIONS] });
  });

  it("is kubectl-mcpwarden by that name, found by kubectl's plugin lookup", async () => {
    const kubectlDir = folderOf(controlPlane().kubectl);
    const result = await run(controlPlane().kubectl, ["plugin", "list"], { env: { PATH: pathWithoutNode(seaDir, kubectlDir), HOME: scratch }, cwd: scratch });
    expect(result.stdout).toContain(join(seaDir, "kubectl-mcpwarden"));
    const help = await run("kubectl-mcpwarden", ["--help"], { env: env(), cwd: scratch });
    expect(help.stdout).toContain("Usage: kubectl mcpwarden");
  });
});

describe("the npm package installed into an empty prefix", () => {
  const prefix = join(scratch, "prefix");
  const nodeDir = dirname(process.execPath);
  const env = (): NodeJS.ProcessEnv => ({ PATH: [join(prefix, "bin"), nodeDir, folderOf(controlPlane().kubectl)].join(delimiter), HOME: scratch, KUBECONFIG: controlPlane().kubeconfig });

  beforeAll(async () => {
    mkdirSync(prefix);
    const npm = join(nodeDir, "npm");
    const installed = await run(existsSync(npm) ? npm : "npm", ["install", "--global", "--offline", "--no-audit", "--no-fund", "--prefix", prefix, tarball], { cwd: scratch, timeoutMs: 120_000 });
    expect(installed.code, installed.stderr).toBe(0);
  }, 180_000);

  it("installs mcp-warden and kubectl-mcpwarden with nothing else to fetch", () => {
    expect(existsSync(join(prefix, "bin", "mcp-warden"))).toBe(true);
    expect(existsSync(join(prefix, "bin", "kubectl-mcpwarden"))).toBe(true);
    expect(existsSync(join(prefix, "lib", "node_modules", "mcp-warden", "node_modules"))).toBe(false);
  });

  it("runs policy test and the sidecar", async () => {
    await policyTestWorks("mcp-warden", env());
    await sidecarWorks("mcp-warden", env());
  });

  it("runs the sidecar for an HTTP upstream without loading Node's fetch, HTTP/2 or TLS (each costs resident memory in every pod)", async () => {
    // A preload that lists the built-in modules the process has loaded when asked (SIGUSR2).
    const preload = join(scratch, "list-builtins.cjs");
    const listed = join(scratch, "builtins.json");
    writeFileSync(preload, `process.on("SIGUSR2", () => require("node:fs").writeFileSync(${JSON.stringify(listed)}, JSON.stringify(process.moduleLoadList)));\n`);
    await sidecarWorks("mcp-warden", { ...env(), NODE_OPTIONS: `--require ${preload}` }, async (child) => {
      child.kill("SIGUSR2");
      for (let i = 0; i < 200 && !existsSync(listed); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    });
    const builtins = (JSON.parse(readFileSync(listed, "utf8")) as string[]).filter((entry) => entry.startsWith("NativeModule ")).map((entry) => entry.slice("NativeModule ".length));
    expect(builtins).toContain("http");
    expect(builtins.filter((name) => ["internal/deps/undici/undici", "http2", "tls", "https", "zlib", "internal/crypto/webcrypto"].includes(name))).toEqual([]);
  });

  it("is a kubectl plugin: kubectl plugin list finds it, kubectl mcpwarden status works from any folder", async () => {
    await applyCrds();
    const namespace = await createNamespace("dist-plugin");
    const policy = readFileSync(join(examples, "mockloop.yaml"), "utf8").replace("namespace: agents", `namespace: ${namespace}`);
    await kubectlOk(["apply", "-f", "-"], { input: policy });
    const list = await run("kubectl", ["plugin", "list"], { env: env(), cwd: scratch });
    expect(list.stdout).toContain(join(prefix, "bin", "kubectl-mcpwarden"));
    const status = await run("kubectl", ["mcpwarden", "status", "-n", namespace], { env: env(), cwd: scratch });
    expect(status.stderr).toBe("");
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^${namespace}\\s+mockloop\\s+Unknown\\s+Unknown\\s+0\\s+0\\s+0$`, "m"));
    await kubectlOk(["delete", "mcppolicies.mcpwarden.dev", "--all", "-n", namespace]);
  });

  // The machine's Node 20 (Debian's /usr/bin/node): older than engines.node.
  const olderNode = ["/usr/bin/node", "/usr/local/bin/node"].find((file) => {
    const version = spawnSync(file, ["--version"], { encoding: "utf8" }).stdout?.trim() ?? "";
    return /^v(1\d|20|21)\./.test(version);
  });
  it.skipIf(olderNode === undefined)(`on an older Node.js (${olderNode ?? "none on this machine"}) prints one line naming the version it needs and exits 1`, async () => {
    const olderEnv = { PATH: [join(prefix, "bin"), dirname(olderNode as string)].join(delimiter), HOME: scratch };
    const olderVersion = spawnSync(olderNode as string, ["--version"], { encoding: "utf8" }).stdout.trim();
    for (const command of ["mcp-warden", "kubectl-mcpwarden"]) {
      const result = await run(command, ["sidecar", "--policy", join(scratch, "policy.yaml"), "--upstream", upstream.url], { env: olderEnv, cwd: scratch });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toBe(`${command}: needs Node.js ${manifest.engines.node.replace(">=", "")} or later; this is Node.js ${olderVersion}\n`);
    }
  });
});
