// The `startup` section of `make bench`: how long `mcp-warden sidecar` takes from process
// start to /readyz, and its idle RSS (2 s after ready, no traffic), for each build that
// can run it — the tsc output, the shipped bundle as the npm package and the images run it
// (dist/npm), and the single executable (dist/sea) — with a policy that needs neither CEL
// nor JSON Schema (the seed 002 rule) and one that needs both. Rounds are interleaved so a
// busy machine slows every build alike; medians are reported.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../cli/package-root.ts";
import { cliScript, rssMb } from "./bench-process.ts";
import { quantile } from "./text-table.ts";

const ROUNDS = Number(process.env["MCPWARDEN_BENCH_STARTUP_ROUNDS"] ?? 7);

const PLAIN_POLICY = readFileSync(join(packageRoot(), "examples", "policies", "mock-mcp.yaml"), "utf8");
const CHECKED_POLICY = `apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: checked }
spec:
  default: deny
  tools:
    run_test_iteration:
      when: "args.scenario != 'prod'"
      arguments: { type: object, properties: { iterations: { type: integer, maximum: 5 } } }
`;

interface Build {
  readonly name: string;
  readonly command: readonly string[];
}

function builds(): Build[] {
  const root = packageRoot();
  const found: Build[] = [{ name: "tsc output (node dist/cli/main.js)", command: [process.execPath, cliScript()] }];
  const npmBin = join(root, "dist", "npm", "bin", "mcp-warden.cjs");
  if (existsSync(npmBin)) found.push({ name: "bundle (npm package, images)", command: [process.execPath, npmBin] });
  const sea = join(root, "dist", "sea", "mcp-warden");
  if (existsSync(sea)) found.push({ name: "single executable", command: [sea] });
  return found;
}

interface Sample {
  readonly readyMs: number;
  readonly idleRssMb: number;
}

/** One start: the sidecar on free ports, timed to its first 200 from /readyz. */
async function startOnce(build: Build, policyFile: string, port: number): Promise<Sample> {
  const started = performance.now();
  const [command, ...args] = build.command as [string, ...string[]];
  const child = spawn(command, [...args, "sidecar", "--listen", `127.0.0.1:${port}`, "--admin", `127.0.0.1:${port + 1}`, "--upstream", "http://127.0.0.1:9/mcp", "--policy", policyFile, "--log-level", "warn"], {
    stdio: "ignore",
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${build.name} exited with ${child.exitCode} before it was ready`);
      if ((await status(port + 1, "/readyz")) === 200) break;
      if (performance.now() - started > 30_000) throw new Error(`${build.name} was not ready within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const readyMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    return { readyMs, idleRssMb: rssMb(child.pid as number) };
  } finally {
    child.kill("SIGKILL");
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once("exit", resolve)));
  }
}

function status(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, timeout: 500 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", () => resolve(0));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

export async function runStartupBench(): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), "mcpwarden-startup-"));
  try {
    const policies = [
      { name: "no CEL, no schemas (seed 002)", file: join(dir, "plain.yaml"), text: PLAIN_POLICY },
      { name: "CEL and an arguments schema", file: join(dir, "checked.yaml"), text: CHECKED_POLICY },
    ];
    for (const policy of policies) writeFileSync(policy.file, policy.text);
    const targets = builds().flatMap((build) => policies.map((policy) => ({ build, policy, samples: [] as Sample[] })));
    console.log(`[bench] startup: ${targets.length} build × policy pairs, ${ROUNDS} interleaved rounds, process start to /readyz and idle RSS 2 s later`);
    let port = 21_000 + Math.floor(Math.random() * 2_000) * 2;
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of targets) {
        target.samples.push(await startOnce(target.build, target.policy.file, port));
        port += 2;
      }
    }
    const rows = targets.map((target) => ({
      build: target.build.name,
      policy: target.policy.name,
      readyMs: Math.round(quantile(target.samples.map((sample) => sample.readyMs), 0.5)),
      idleRssMb: Math.round(quantile(target.samples.map((sample) => sample.idleRssMb), 0.5) * 10) / 10,
    }));
    console.log(`  ${"build".padEnd(36)} ${"policy".padEnd(32)} ${"to /readyz".padStart(11)} ${"idle RSS".padStart(9)}`);
    for (const row of rows) console.log(`  ${row.build.padEnd(36)} ${row.policy.padEnd(32)} ${`${row.readyMs} ms`.padStart(11)} ${`${row.idleRssMb} MB`.padStart(9)}`);
    return { rounds: ROUNDS, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
