// vitest globalSetup for the integration suite: one control plane for the whole run.
import type { TestProject } from "vitest/node";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ControlPlane, type ControlPlaneInfo } from "./control-plane.ts";
import { controlPlaneBinDir } from "./control-plane-bin.ts";

declare module "vitest" {
  export interface ProvidedContext {
    controlPlane: ControlPlaneInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stateDir = mkdtempSync(join(tmpdir(), "mcp-warden-cp-"));
  const controlPlane = new ControlPlane({ binDir: controlPlaneBinDir(), stateDir });
  // An interrupted run still tears down: the managed processes also die with us.
  const onSignal = (signal: NodeJS.Signals): void => {
    void controlPlane.stop().finally(() => process.kill(process.pid, signal));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const started = Date.now();
  let info: ControlPlaneInfo;
  try {
    info = await controlPlane.start();
  } catch (err) {
    await controlPlane.stop();
    throw err;
  }
  console.log(`[harness] control plane ready at ${info.server} in ${Date.now() - started} ms (logs: ${info.logDir})`);
  project.provide("controlPlane", info);
  return async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await controlPlane.stop();
    if (!process.env.MCPWARDEN_KEEP_STATE) rmSync(stateDir, { recursive: true, force: true });
  };
}
