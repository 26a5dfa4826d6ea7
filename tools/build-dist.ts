// `make dist`: the one build the product ships, and what is made from it (ADR 6).
//   dist/bundle/esm/                  esbuild build of cli/bundle-main.ts as ES modules split into
//                                     chunks: what the npm package and the images run (ADR 11)
//   dist/bundle/mcp-warden.cjs        esbuild bundle of cli/bundle-main.ts (CommonJS: Node 24's
//                                     single executables run a CommonJS main script only)
//   dist/npm/ -> dist/mcp-warden-<version>.tgz
//                                     the npm package: packaging/bin/ (a Node version check,
//                                     then the bundle), crds/, examples/policies/, README
//   dist/sea/mcp-warden, dist/sea/kubectl-mcpwarden
//                                     single executables for this platform (linux-amd64 here):
//                                     the bundle injected into the node binary running this
//                                     script; kubectl-mcpwarden is a symlink (it dispatches on
//                                     the name it was called by)
// `--bundle-only` stops after the bundle (the images build it so).
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { arch, platform } from "node:os";
import { join } from "node:path";
import { build, type BuildOptions } from "esbuild";
import { builtinsThroughRequire } from "./builtins-through-require.ts";
import { checkoutCommit } from "../cli/build-info.ts";

const root = process.cwd();
const dist = join(root, "dist");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name: string; version: string; description: string; license: string; engines: { node: string } };

/** The checkout's commit (cli/build-info.ts); MCPWARDEN_COMMIT where there is no git checkout (an image build). */
function commit(): string {
  const found = checkoutCommit(root);
  return found === "unknown" ? (process.env["MCPWARDEN_COMMIT"] ?? "unknown") : found;
}

export const BUNDLE = join(dist, "bundle", "mcp-warden.cjs");
/** The split build (ADR 11): the entry and the chunks it loads as each command needs them. */
export const SPLIT_BUNDLE = join(dist, "bundle", "esm");

async function bundle(): Promise<void> {
  rmSync(join(dist, "bundle"), { recursive: true, force: true });
  const define = { MCPWARDEN_BUILD: JSON.stringify({ version: manifest.version, commit: commit() }) };
  const common: BuildOptions = {
    entryPoints: [join(root, "cli", "bundle-main.ts")],
    bundle: true,
    platform: "node",
    target: `node${manifest.engines.node.replace(/^>=\s*/, "")}`,
    // Whitespace and syntax only: the names stay readable in stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: "linked",
    legalComments: "linked",
    logLevel: "warning",
  };
  // What the npm package and the images run: ES modules split into chunks, so a process
  // parses only the code its command reaches (the sidecar never parses the operator, the
  // Kubernetes client, CEL or ajv unless its policies need them).
  await build({
    ...common,
    outdir: SPLIT_BUNDLE,
    splitting: true,
    format: "esm",
    outExtension: { ".js": ".mjs" },
    define,
    plugins: [builtinsThroughRequire],
    // A named import of a built-in's getter is an error there; this makes it one here too
    // for a namespace import's property (`fs.promises` after `import * as fs`) in our code.
    logOverride: { "import-is-undefined": "error" },
    // CommonJS dependencies bundled into ES modules still call require() for Node's built-ins.
    banner: { js: 'import { createRequire as __mcpwardenCreateRequire } from "node:module"; const require = __mcpwardenCreateRequire(import.meta.url);' },
  });
  // What the single executable runs: one CommonJS file (ADR 6).
  await build({
    ...common,
    outfile: BUNDLE,
    format: "cjs",
    define: {
      ...define,
      // Only cli/package-root.ts reads import.meta.url, for a checkout's package.json; the
      // bundle never reaches it (MCPWARDEN_BUILD), but CommonJS has no import.meta.
      "import.meta.url": "__mcpwardenBundleUrl",
    },
    banner: { js: 'const __mcpwardenBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
}

function npmPackage(): string {
  const staging = join(dist, "npm");
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, "lib"), { recursive: true });
  cpSync(join(root, "packaging", "bin"), join(staging, "bin"), { recursive: true });
  cpSync(SPLIT_BUNDLE, join(staging, "lib"), { recursive: true });
  cpSync(join(root, "crds"), join(staging, "crds"), { recursive: true, filter: (source) => !source.endsWith(".md") || source.endsWith("README.md") });
  cpSync(join(root, "examples", "policies"), join(staging, "examples", "policies"), { recursive: true, filter: (source) => !source.endsWith(".ts") });
  copyFileSync(join(root, "README.md"), join(staging, "README.md"));
  // Everything is in the bundle: the package has no dependencies to install.
  const packageJson = {
    name: manifest.name,
    version: manifest.version,
    description: manifest.description,
    license: manifest.license,
    engines: manifest.engines,
    bin: { "mcp-warden": "bin/mcp-warden.cjs", "kubectl-mcpwarden": "bin/kubectl-mcpwarden.cjs" },
    files: ["bin", "lib", "crds", "examples"],
  };
  writeFileSync(join(staging, "package.json"), `${JSON.stringify(packageJson, null, 2)}\n`);
  const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", dist], { cwd: staging, encoding: "utf8" }).trim().split("\n").at(-1) as string;
  return join(dist, packed);
}

/** Node's single executable application (Node 24: a blob from --experimental-sea-config, injected with postject). */
function singleExecutable(): string {
  const folder = join(dist, "sea");
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  const blob = join(folder, "mcp-warden.blob");
  const config = join(folder, "sea-config.json");
  writeFileSync(config, JSON.stringify({ main: BUNDLE, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
  execFileSync(process.execPath, ["--experimental-sea-config", config], { stdio: "pipe" });
  const executable = join(folder, "mcp-warden");
  copyFileSync(process.execPath, executable);
  chmodSync(executable, 0o755);
  // The fuse is the one Node's documentation gives: postject flips it so the binary looks for the blob.
  // Its stderr is kept for a failure: it warns about every ELF note section it copies.
  execFileSync(join(root, "node_modules", ".bin", "postject"), [executable, "NODE_SEA_BLOB", blob, "--sentinel-fuse", "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2"], { stdio: "pipe" });
  symlinkSync("mcp-warden", join(folder, "kubectl-mcpwarden"));
  rmSync(blob);
  rmSync(config);
  return executable;
}

const bundleOnly = process.argv.includes("--bundle-only");
await bundle();
console.log(`[dist] ${BUNDLE.slice(root.length + 1)}`);
if (!bundleOnly) {
  console.log(`[dist] ${npmPackage().slice(root.length + 1)}`);
  const target = `${platform()}-${arch() === "x64" ? "amd64" : arch()}`;
  console.log(`[dist] ${singleExecutable().slice(root.length + 1)} (${target}) and dist/sea/kubectl-mcpwarden`);
}
