// Reading `--policy FILE|DIR` once: which files count, their policies, one decision table,
// and the revision that names exactly this content.

import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import {
  CompileCache,
  compilePolicies,
  formatProblem,
  parsePolicyText,
  policiesFromText,
  policyEngineNeeds,
  type EngineNeeds,
  type McpPolicy,
  type ParsedPolicyText,
  type PolicyEngines,
} from "../../policy/index.ts";
import type { PolicySnapshot } from "../contracts.ts";

const POLICY_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

export interface PolicyFile {
  readonly path: string;
  readonly text: string;
}

export type PolicyFilesRead = { ok: true; files: PolicyFile[] } | { ok: false; message: string };

/**
 * A file is read as given; in a directory, the `.yaml`, `.yml` and `.json` files directly
 * in it, in name order. Dot files are skipped: editors' swap files and a ConfigMap
 * volume's `..data` machinery (whose visible entries are symlinks into it, followed here).
 */
export async function readPolicyFiles(path: string): Promise<PolicyFilesRead> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    return { ok: false, message: `cannot read ${path}: ${describeFsError(error)}` };
  }
  const paths: string[] = [];
  if (isDirectory) {
    let names: string[];
    try {
      names = await readdir(path);
    } catch (error) {
      return { ok: false, message: `cannot list ${path}: ${describeFsError(error)}` };
    }
    for (const name of names.sort()) {
      if (name.startsWith(".") || !POLICY_EXTENSIONS.has(extname(name).toLowerCase())) continue;
      const candidate = join(path, name);
      // A file that vanished between listing and stat (an editor's rename) is not a policy.
      const isFile = await stat(candidate).then((s) => s.isFile(), () => false);
      if (isFile) paths.push(candidate);
    }
    if (paths.length === 0) return { ok: false, message: `${path} holds no policy file (*.yaml, *.yml, *.json)` };
  } else {
    paths.push(path);
  }
  const files: PolicyFile[] = [];
  for (const file of paths) {
    try {
      files.push({ path: file, text: await readFile(file, "utf8") });
    } catch (error) {
      return { ok: false, message: `cannot read ${file}: ${describeFsError(error)}` };
    }
  }
  return { ok: true, files };
}

/** sha256 of the files' names and contents in name order: equal exactly when the input is. */
export function policyRevision(files: readonly PolicyFile[]): string {
  const hash = createHash("sha256");
  for (const file of files) {
    hash.update(`${basename(file.path)}\0${Buffer.byteLength(file.text)}\0`);
    hash.update(file.text);
  }
  return hash.digest("hex");
}

export type SnapshotBuild = { ok: true; snapshot: PolicySnapshot } | { ok: false; message: string };

/** The files' documents, parsed: what policyEngineNeeds looks at before they are compiled. */
export interface ParsedPolicyFile {
  readonly path: string;
  readonly parsed: ParsedPolicyText;
}

export function parsePolicyFiles(files: readonly PolicyFile[]): ParsedPolicyFile[] {
  return files.map((file) => ({ path: file.path, parsed: parsePolicyText(file.text) }));
}

/** The engines compiling these files needs (a file that does not parse needs none). */
export function policyFilesNeed(files: readonly ParsedPolicyFile[]): EngineNeeds {
  return policyEngineNeeds(files.flatMap((file) => (file.parsed.ok ? file.parsed.values : [])));
}

/**
 * Every policy of every file compiled into one table with `engines` (standalone: selectors
 * are ignored, all apply).
 */
export function snapshotFromFiles(files: readonly ParsedPolicyFile[], revision: string, engines: PolicyEngines): SnapshotBuild {
  const policies: McpPolicy[] = [];
  const problems: string[] = [];
  const cache = new CompileCache(engines);
  for (const file of files) {
    const read = policiesFromText(file.parsed, { name: policyLayerName(file.path) }, cache);
    if (read.ok) policies.push(...read.policies);
    else for (const problem of read.problems) problems.push(`${file.path}: ${formatProblem(problem)}`);
  }
  if (problems.length > 0) return { ok: false, message: problems.join("; ") };
  const compiled = compilePolicies(policies, cache);
  if (!compiled.ok) {
    return { ok: false, message: compiled.problems.map((p) => `${p.policy === undefined ? "" : `${p.policy}: `}${formatProblem(p)}`).join("; ") };
  }
  return { ok: true, snapshot: { table: compiled.table, revision, policies: files.map((file) => file.path) } };
}

/** A PolicyLayer document has no name: it takes its file's, as a Kubernetes-style name. */
function policyLayerName(path: string): string {
  const stem = basename(path, extname(path)).toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
  return stem === "" ? "policy" : stem.slice(0, 63);
}

function describeFsError(error: unknown): string {
  if (error !== null && typeof error === "object" && "code" in error) {
    const code = String((error as { code: unknown }).code);
    if (code === "ENOENT") return "no such file or directory";
    if (code === "EACCES") return "permission denied";
    return code;
  }
  return String(error);
}
