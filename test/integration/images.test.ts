// The operator and sidecar Dockerfiles, checked without a container engine (none runs
// here): the files are replayed stage by stage into temp folders. Every COPY source must
// exist in the build context and survive the .dockerignore; the bundle (ADR 6) really
// builds from what the build stage copied; the final stage holds the bundle and the
// command shim and no node_modules; its ENTRYPOINT + CMD must exist and start (`--help`
// exits 0, `version` names the build); USER must be numeric.
//
// One shortcut: the build stage's full `npm ci` is replaced by a link to the checkout's
// node_modules, which the same lockfile produced.
import { afterAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, posix } from "node:path";
import { repoRoot, run } from "../harness/index.ts";

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

interface Dockerfile {
  args: Map<string, string>;
  stages: Stage[];
}

const COMPONENTS = ["operator", "sidecar"] as const;
const dockerfilePath = (component: string): string => join(repoRoot(), "images", `${component}.Dockerfile`);

function parseDockerfile(text: string): Dockerfile {
  const lines = text.split("\n");
  const instructions: Instruction[] = [];
  for (let index = 0; index < lines.length; index++) {
    const start = index;
    let line = lines[index] as string;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith("\\") && index + 1 < lines.length) {
      index++;
      const next = lines[index] as string;
      if (/^\s*#/.test(next)) continue;
      line = `${line.slice(0, -1)} ${next.trim()}`;
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`line ${start + 1}: cannot read ${JSON.stringify(line)}`);
    instructions.push({ keyword: (match[1] as string).toUpperCase(), args: (match[2] as string).trim(), line: start + 1 });
  }
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const [base, as, name] = instruction.args.split(/\s+/);
      stages.push({ name: as?.toUpperCase() === "AS" && name ? name : String(stages.length), base: base as string, instructions: [] });
    } else if (stages.length === 0 && instruction.keyword === "ARG") {
      const [key, value] = instruction.args.split("=", 2);
      args.set(key as string, value ?? "");
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`line ${instruction.line}: ${instruction.keyword} before FROM`);
      stage.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** Patterns of a `*`-first .dockerignore: what it lets through by name. */
function dockerignoreAllows(context: string, dockerfile: string, source: string): boolean {
  const ignoreFile = `${dockerfile}.dockerignore`;
  if (!existsSync(ignoreFile)) return true;
  const patterns = readFileSync(ignoreFile, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  if (patterns[0] !== "*") throw new Error(`${ignoreFile}: this test only reads ignore files that start by excluding everything (*)`);
  const path = source.replace(/^\.\//, "").replace(/\/$/, "");
  const top = path.split("/")[0] as string;
  return patterns.some((pattern) => pattern.startsWith("!") && [top, path].includes(pattern.slice(1).replace(/\/$/, ""))) && existsSync(join(context, source));
}

/** JSON exec form, as ENTRYPOINT and CMD must be (no shell to run as a non-root user without one). */
function execForm(instruction: Instruction): string[] {
  const parsed: unknown = JSON.parse(instruction.args);
  if (!Array.isArray(parsed) || !parsed.every((word) => typeof word === "string")) throw new Error(`line ${instruction.line}: ${instruction.keyword} must be a JSON array of strings`);
  return parsed as string[];
}

interface StageResult {
  root: string;
  workdir: string;
  env: Record<string, string>;
  /** ARGs of the stage: in the environment of its RUN steps only. */
  args: Record<string, string>;
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
}

const workRoot = mkdtempSync(join(tmpdir(), "mcp-warden-images-"));
const replayedStages = new Map<string, StageResult>();

afterAll(() => rmSync(workRoot, { recursive: true, force: true }));

function inStage(stage: StageResult, path: string): string {
  return join(stage.root, posix.isAbsolute(path) ? path : posix.join(stage.workdir, path));
}

function copyInto(source: string, target: string, manySources: boolean, destination: string): void {
  const isDirectory = statSync(source).isDirectory();
  const into = destination.endsWith("/") || manySources ? join(target, basename(source)) : target;
  mkdirSync(dirname(into), { recursive: true });
  // Docker copies a directory's contents, not the directory itself.
  cpSync(source, isDirectory ? target : into, { recursive: true, dereference: true });
}

async function runStep(step: string, stage: StageResult, context: string, line: number): Promise<void> {
  const cwd = inStage(stage, ".");
  mkdirSync(cwd, { recursive: true });
  const words = step.trim().split(/\s+/);
  if (words[0] === "npm" && words[1] === "ci") {
    const lockfile = join(cwd, "package-lock.json");
    expect(existsSync(lockfile), `line ${line}: npm ci needs package-lock.json in ${stage.workdir}`).toBe(true);
    if (!words.includes("--omit=dev")) {
      expect(readFileSync(lockfile, "utf8")).toBe(readFileSync(join(context, "package-lock.json"), "utf8"));
      symlinkSync(join(context, "node_modules"), join(cwd, "node_modules"));
      return;
    }
    const result = await run("npm", [...words.slice(1), "--prefer-offline", "--loglevel=error"], { cwd, timeoutMs: 240_000 });
    expect(result.code, `line ${line}: ${step}\n${result.stderr}`).toBe(0);
    return;
  }
  if (words[0] === "node" && words[1] === "tools/build-dist.ts") {
    const result = await run(process.execPath, words.slice(1), { cwd, timeoutMs: 240_000, env: { PATH: process.env.PATH, HOME: workRoot, ...stage.env, ...stage.args } });
    expect(result.code, `line ${line}: ${step}\n${result.stdout}${result.stderr}`).toBe(0);
    return;
  }
  if (words[0] === "npx" && words[1] === "tsc") {
    const result = await run(process.execPath, [join(cwd, "node_modules", "typescript", "bin", "tsc"), ...words.slice(2)], { cwd, timeoutMs: 240_000 });
    expect(result.code, `line ${line}: ${step}\n${result.stdout}${result.stderr}`).toBe(0);
    return;
  }
  if (words[0] === "apt-get" || (words[0] === "rm" && words[2] === "/var/lib/apt/lists/*")) {
    // Debian's packages for the launcher's build: this machine's own gcc and libc stand in.
    if (words[1] === "install") for (const tool of words.slice(2).filter((word) => !word.startsWith("-"))) expect(["gcc", "libc6-dev"], `line ${line}: ${step}`).toContain(tool);
    return;
  }
  if (words[0] === "gcc") {
    const args = words.slice(1).map((word) => (word.startsWith("/") ? inStage(stage, word) : word));
    const result = await run("gcc", args, { cwd, timeoutMs: 120_000 });
    expect(result.code, `line ${line}: ${step}\n${result.stderr}`).toBe(0);
    return;
  }
  throw new Error(`line ${line}: this test does not know how to replay \`${step}\`; teach it or simplify the Dockerfile`);
}

async function replayStage(dockerfile: Dockerfile, file: string, index: number): Promise<StageResult> {
  const stage = dockerfile.stages[index] as Stage;
  const context = repoRoot();
  const key = createHash("sha256").update(JSON.stringify([stage.base, stage.instructions.map((i) => [i.keyword, i.args])])).digest("hex");
  const done = replayedStages.get(key);
  if (done) return done;
  const result: StageResult = { root: join(workRoot, key.slice(0, 16)), workdir: "/", env: {}, args: {} };
  mkdirSync(result.root, { recursive: true });
  for (const instruction of stage.instructions) {
    const { keyword, args, line } = instruction;
    if (keyword === "WORKDIR") result.workdir = posix.resolve(result.workdir, args);
    else if (keyword === "ENV") {
      const [name, value] = args.split("=", 2);
      result.env[name as string] = value ?? "";
    } else if (keyword === "ARG") {
      const [name, value] = args.split("=", 2);
      result.args[name as string] = value ?? "";
    } else if (keyword === "USER") result.user = args;
    else if (keyword === "ENTRYPOINT") result.entrypoint = execForm(instruction);
    else if (keyword === "CMD") result.cmd = execForm(instruction);
    else if (keyword === "RUN") {
      for (const step of args.split("&&")) await runStep(step, result, context, line);
    } else if (keyword === "COPY") {
      const words = args.split(/\s+/);
      const from = words.find((word) => word.startsWith("--from="))?.slice("--from=".length);
      const paths = words.filter((word) => !word.startsWith("--"));
      const destination = paths.pop() as string;
      const target = inStage(result, destination);
      for (const source of paths) {
        if (/[*?[]/.test(source)) throw new Error(`line ${line}: wildcards in COPY are not replayed`);
        let sourcePath: string;
        if (from === undefined) {
          sourcePath = join(context, source);
          expect(existsSync(sourcePath), `line ${line}: COPY source ${source} does not exist in the build context`).toBe(true);
          expect(dockerignoreAllows(context, file, source), `line ${line}: ${source} is excluded by ${basename(file)}.dockerignore`).toBe(true);
        } else {
          const fromIndex = dockerfile.stages.findIndex((s) => s.name === from);
          expect(fromIndex, `line ${line}: no stage named ${from}`).toBeGreaterThanOrEqual(0);
          expect(fromIndex, `line ${line}: COPY --from=${from} must name an earlier stage`).toBeLessThan(index);
          sourcePath = inStage(await replayStage(dockerfile, file, fromIndex), source);
          expect(existsSync(sourcePath), `line ${line}: stage ${from} has no ${source}`).toBe(true);
        }
        copyInto(sourcePath, target, paths.length > 1, destination);
      }
    } else throw new Error(`line ${line}: ${keyword} is not replayed by this test`);
  }
  replayedStages.set(key, result);
  return result;
}

describe.each(COMPONENTS)("images/%s.Dockerfile", (component) => {
  const file = dockerfilePath(component);
  const dockerfile = parseDockerfile(readFileSync(file, "utf8"));

  it("builds from Node 24 slim or distroless in several stages", () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages) {
      const base = stage.base.replace(/^\$\{(\w+)\}$/, (_all, name: string) => dockerfile.args.get(name) ?? "");
      expect(base).toMatch(/^(node:24[-.\w]*slim|.*distroless\/nodejs24[-\w]*(:[-\w]+)?)$/);
    }
  });

  it("runs as a numeric non-root user", () => {
    const users = (dockerfile.stages.at(-1) as Stage).instructions.filter((i) => i.keyword === "USER");
    expect(users).toHaveLength(1);
    const user = (users[0] as Instruction).args;
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(":")[0])).toBeGreaterThan(0);
  });

  it(
    "has every COPY source, the bundle and no node_modules, and an entrypoint that starts",
    async () => {
      const final = await replayStage(dockerfile, file, dockerfile.stages.length - 1);
      // Everything the commands need is in the bundle: no dependencies, no tsc output.
      expect(existsSync(inStage(final, "node_modules")), "the image carries no node_modules").toBe(false);
      expect(existsSync(inStage(final, "dist")), "the image carries no tsc output").toBe(false);
      // The split build (ADR 11): the entry and its chunks, the sidecar's and the operator's among them.
      expect(statSync(inStage(final, "lib/bundle-main.mjs")).size).toBeGreaterThan(0);
      const chunks = readdirSync(inStage(final, "lib")).filter((name) => name.endsWith(".mjs"));
      expect(chunks.some((name) => name.startsWith("start-sidecar-"))).toBe(true);
      expect(chunks.some((name) => name.startsWith("run-operator-"))).toBe(true);

      if (component === "sidecar") {
        // What the injected init container copies into a pod whose server speaks stdio (ADR 12).
        const launcher = inStage(final, "/usr/local/bin/mcp-warden-launcher");
        const installed = join(workRoot, "installed-launcher");
        const install = await run(launcher, ["--install", installed]);
        expect(install.code, install.stderr).toBe(0);
        expect(statSync(installed).mode & 0o777).toBe(0o755);
      }

      const command = [...(final.entrypoint ?? []), ...(final.cmd ?? [])];
      expect(command.slice(0, 2)).toEqual(["node", "/app/bin/mcp-warden.cjs"]);
      expect(command).toContain(component);
      const script = inStage(final, command[1] as string);
      expect(existsSync(script), `${command[1]} exists in the image`).toBe(true);
      const started = await run(process.execPath, [script, ...command.slice(2), "--help"], {
        cwd: inStage(final, "."),
        env: { PATH: process.env.PATH, HOME: workRoot, ...final.env },
      });
      expect(started.stderr).toBe("");
      expect(started.code).toBe(0);
      expect(started.stdout).toContain(`Usage: mcp-warden ${component}`);
      const version = await run(process.execPath, [script, "version"], { cwd: inStage(final, "."), env: { PATH: process.env.PATH, HOME: workRoot, ...final.env } });
      const manifest = JSON.parse(readFileSync(join(repoRoot(), "package.json"), "utf8")) as { version: string };
      expect(version.stdout.split("\n").slice(0, 2)).toEqual([`mcp-warden ${manifest.version}`, "commit: unknown"]);
    },
    600_000,
  );
});
