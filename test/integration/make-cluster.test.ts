// `make cluster` for people: starts, serves the CRD and samples to the built kubectl,
// and on SIGINT stops with exit 0 and leaves no process or port behind.
import { describe, expect, it, onTestFinished } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { controlPlane, repoRoot, run } from "../harness/index.ts";
import { portInUse } from "../harness/free-port.ts";

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("make cluster", () => {
  it("runs a control plane until SIGINT, then exits 0 leaving nothing behind", async () => {
    const root = repoRoot();
    // A script's background job (`make cluster &`) starts with SIGINT ignored by make,
    // so the signal reaches only the control-plane program, which stops and exits 0.
    // (At a terminal, make itself reports the Ctrl-C as "Interrupt" after the program
    // has stopped cleanly.)
    const child = spawn("sh", ["-c", 'trap "" INT; exec make --no-print-directory cluster'], {
      cwd: root,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, MCPWARDEN_CONTROL_PLANE_BIN: controlPlane().binDir },
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );

    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
    });
    const deadline = Date.now() + 240_000;
    while (!output.includes("Press Ctrl-C") && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(output, output).toContain("Press Ctrl-C");
    expect(output).toMatch(/export KUBECONFIG=.*\.mcp-warden\/cluster\/kubeconfig/);

    const kubeconfig = join(root, ".mcp-warden", "cluster", "kubeconfig");
    expect(existsSync(kubeconfig)).toBe(true);
    const server = /server: (https:\/\/127\.0\.0\.1:(\d+))/.exec(readFileSync(kubeconfig, "utf8"));
    expect(server).not.toBeNull();
    const apiPort = Number(server![2]);
    const kubectl = controlPlane().kubectl;

    const crd = await run(kubectl, ["--kubeconfig", kubeconfig, "apply", "-f", "crds/"]);
    expect(crd.code, crd.stderr).toBe(0);
    const established = await run(kubectl, ["--kubeconfig", kubeconfig, "wait", "--for=condition=Established", "--timeout=60s", "-f", "crds/"]);
    expect(established.code, established.stderr).toBe(0);
    const ns = await run(kubectl, ["--kubeconfig", kubeconfig, "create", "namespace", "agents"]);
    expect(ns.code, ns.stderr).toBe(0);
    const samples = await run(kubectl, ["--kubeconfig", kubeconfig, "apply", "-f", "examples/policies/mockloop.yaml", "-f", "examples/policies/mock-mcp.yaml"]);
    expect(samples.code, samples.stderr).toBe(0);
    const listed = await run(kubectl, ["--kubeconfig", kubeconfig, "get", "mcpp", "-n", "agents", "-o", "name"]);
    expect(listed.stdout.trim().split("\n").sort()).toEqual(["mcppolicy.mcpwarden.dev/mock-mcp", "mcppolicy.mcpwarden.dev/mockloop"]);

    // The component pids (descendants of our child), to prove they are gone afterwards.
    const ps = await run("ps", ["-eo", "pid=,ppid=,args="]);
    const rows = ps.stdout.split("\n").filter(Boolean).map((l) => {
      const [pid, ppid, ...args] = l.trim().split(/\s+/);
      return { pid: Number(pid), ppid: Number(ppid), command: args[0] ?? "" };
    });
    const descendants = new Set<number>([child.pid!]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const r of rows) {
        if (descendants.has(r.ppid) && !descendants.has(r.pid)) {
          descendants.add(r.pid);
          grew = true;
        }
      }
    }
    const componentPids = rows.filter((r) => descendants.has(r.pid) && /\/(etcd|kube-apiserver)$/.test(r.command)).map((r) => r.pid);
    expect(componentPids.length).toBe(2);

    process.kill(-child.pid!, "SIGINT");
    const { code, signal } = await exited;
    expect({ code, signal }, output).toEqual({ code: 0, signal: null });
    expect(output).toContain("[cluster] stopped");
    for (const pid of componentPids) expect(processAlive(pid), `pid ${pid} still running`).toBe(false);
    expect(await portInUse(apiPort)).toBe(false);
  }, 300_000);
});
