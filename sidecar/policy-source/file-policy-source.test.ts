// Real files edited on disk, the way people and Kubernetes change them.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mkdtempSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PolicySnapshot } from "../contracts.ts";
import { FilePolicySource } from "./file-policy-source.ts";

const policyYaml = (name: string, defaultAction = "deny"): string => `apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: ${name} }
spec:
  default: ${defaultAction}
  tools:
    list_runs: {}
`;
const policyLayerJson = JSON.stringify({ version: "1", default: "deny", tools: { run_test_iteration: { limits: [{ counter: "rate", window: 60, max: 10 }] } } });

interface Recorder {
  snapshots: PolicySnapshot[];
  errors: string[];
}

let dir: string;
let source: FilePolicySource | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mcpwarden-policy-"));
});

afterEach(async () => {
  await source?.stop();
  source = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function started(path: string): Promise<Recorder> {
  const recorder: Recorder = { snapshots: [], errors: [] };
  source = new FilePolicySource({ path, debounceMs: 30, recheckIntervalMs: 0 });
  await source.start({ onSnapshot: (s) => recorder.snapshots.push(s), onLoadError: (m) => recorder.errors.push(m) });
  return recorder;
}

const untilCount = (list: readonly unknown[], count: number): Promise<void> =>
  vi.waitFor(() => expect(list.length).toBeGreaterThanOrEqual(count), { timeout: 5_000, interval: 20 });
const quiet = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 300));

describe("FilePolicySource", () => {
  it("loads every McpPolicy and PolicyLayer file of a directory into one table, ignoring selectors", async () => {
    writeFileSync(join(dir, "a.yaml"), policyYaml("alpha").replace("spec:\n", "spec:\n  selector: { matchLabels: { app: x } }\n"));
    writeFileSync(join(dir, "Mock Loop.json"), policyLayerJson);
    writeFileSync(join(dir, "notes.txt"), "not a policy");
    writeFileSync(join(dir, ".a.yaml.swp"), "editor junk");
    const recorder = await started(dir);
    expect(recorder.errors).toEqual([]);
    expect(recorder.snapshots).toHaveLength(1);
    const snapshot = recorder.snapshots[0]!;
    expect(snapshot.policies).toEqual([join(dir, "Mock Loop.json"), join(dir, "a.yaml")]);
    expect(snapshot.table.enforcing.map((p) => p.ref)).toEqual(["alpha", "mock-loop"]);
    expect(snapshot.revision).toMatch(/^[0-9a-f]{64}$/);
  });

  it("the revision depends on the content only", async () => {
    writeFileSync(join(dir, "p.yaml"), policyYaml("p"));
    const first = await started(dir);
    await source!.stop();
    const other = mkdtempSync(join(tmpdir(), "mcpwarden-policy-"));
    try {
      writeFileSync(join(other, "p.yaml"), policyYaml("p"));
      const second = await started(other);
      expect(second.snapshots[0]!.revision).toBe(first.snapshots[0]!.revision);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("picks up an edit in place and an editor's rename-on-save, for a single file", async () => {
    const file = join(dir, "policy.yaml");
    writeFileSync(file, policyYaml("p"));
    const recorder = await started(file);
    writeFileSync(file, policyYaml("p", "allow"));
    await untilCount(recorder.snapshots, 2);
    expect(recorder.snapshots[1]!.table.enforcing[0]!.fallback.action).toBe("allow");

    writeFileSync(join(dir, ".policy.yaml.tmp"), policyYaml("renamed"));
    renameSync(join(dir, ".policy.yaml.tmp"), file);
    await untilCount(recorder.snapshots, 3);
    expect(recorder.snapshots[2]!.table.enforcing[0]!.ref).toBe("renamed");
    expect(recorder.errors).toEqual([]);
  });

  it("a file touched without change yields no new snapshot", async () => {
    const file = join(dir, "policy.yaml");
    writeFileSync(file, policyYaml("p"));
    const recorder = await started(dir);
    writeFileSync(file, policyYaml("p"));
    await quiet();
    expect(recorder.snapshots).toHaveLength(1);
  });

  it("keeps the last good snapshot when an edit is invalid, reports it once, and applies the fix", async () => {
    const file = join(dir, "policy.yaml");
    writeFileSync(file, policyYaml("p"));
    const recorder = await started(dir);
    writeFileSync(file, policyYaml("p").replace("default: deny", "default: maybe"));
    await untilCount(recorder.errors, 1);
    expect(recorder.errors[0]).toContain(`${file}: spec.default`);
    expect(recorder.errors[0]).toContain(`keeping revision ${recorder.snapshots[0]!.revision.slice(0, 12)}`);
    writeFileSync(join(dir, "other.txt"), "an unrelated change re-reads the same broken file");
    await quiet();
    expect(recorder.errors).toHaveLength(1);
    expect(recorder.snapshots).toHaveLength(1);

    writeFileSync(file, policyYaml("p", "allow"));
    await untilCount(recorder.snapshots, 2);
    expect(recorder.snapshots[1]!.table.enforcing[0]!.fallback.action).toBe("allow");
  });

  it("policies that do not compile together are an error too (the same name twice)", async () => {
    writeFileSync(join(dir, "one.yaml"), policyYaml("same"));
    writeFileSync(join(dir, "two.yaml"), policyYaml("same"));
    const recorder = await started(dir);
    expect(recorder.snapshots).toHaveLength(0);
    expect(recorder.errors[0]).toMatch(/same.*given more than once.*no policy is loaded/);
  });

  it("starts without a policy when the first read fails, and loads once the file appears", async () => {
    const recorder = await started(dir);
    expect(recorder.snapshots).toHaveLength(0);
    expect(recorder.errors[0]).toContain("holds no policy file");
    writeFileSync(join(dir, "late.yaml"), policyYaml("late"));
    await untilCount(recorder.snapshots, 1);
    expect(recorder.snapshots[0]!.table.enforcing[0]!.ref).toBe("late");
  });

  it("follows a ConfigMap volume's atomic symlink swap", async () => {
    // kubelet writes ..<timestamp>/ then renames a ..data_tmp symlink over ..data.
    mkdirSync(join(dir, "..v1"));
    writeFileSync(join(dir, "..v1", "policy.yaml"), policyYaml("v1"));
    symlinkSync("..v1", join(dir, "..data"));
    symlinkSync(join("..data", "policy.yaml"), join(dir, "policy.yaml"));
    const recorder = await started(dir);
    expect(recorder.snapshots[0]!.table.enforcing[0]!.ref).toBe("v1");

    mkdirSync(join(dir, "..v2"));
    writeFileSync(join(dir, "..v2", "policy.yaml"), policyYaml("v2"));
    symlinkSync("..v2", join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    await untilCount(recorder.snapshots, 2);
    expect(recorder.snapshots[1]!.table.enforcing[0]!.ref).toBe("v2");
  });

  it("the periodic re-read catches changes without events", async () => {
    const file = join(dir, "policy.yaml");
    writeFileSync(file, policyYaml("p"));
    const recorder: Recorder = { snapshots: [], errors: [] };
    source = new FilePolicySource({ path: file, recheckIntervalMs: 50, debounceMs: 10_000 });
    await source.start({ onSnapshot: (s) => recorder.snapshots.push(s), onLoadError: (m) => recorder.errors.push(m) });
    writeFileSync(file, policyYaml("p", "allow"));
    await untilCount(recorder.snapshots, 2);
  });

  it("a missing path is a load error, not a crash", async () => {
    const recorder = await started(join(dir, "nope.yaml"));
    expect(recorder.errors[0]).toContain("no such file or directory");
  });
});
