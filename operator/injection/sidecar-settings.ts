// The sidecar's caps, timeouts and forwarded paths for one pod, as flags: the pod's
// annotation if it has one (checked: a bad value refuses the pod with the reason), else
// the operator's setting (the chart's value), else — for the caps that bound memory —
// the share of the sidecar's memory limit that protocol/sidecar-tunables.ts gives it
// (docs/architecture.md "Bounded memory"), else the sidecar's own default.

import { normaliseForwardPrefix } from "../../protocol/request-paths.ts";
import {
  FORWARD_PATH_FLAG,
  FORWARD_PATHS_ANNOTATION,
  readTunable,
  SIDECAR_TUNABLE_NAMES,
  SIDECAR_TUNABLES,
  writeTunable,
  type SidecarTunableValues,
} from "../../protocol/sidecar-tunables.ts";
import { memoryBytes } from "./sidecar-node-options.ts";

export type SidecarSettingsResult = { readonly ok: true; readonly args: string[] } | { readonly ok: false; readonly message: string };

export interface SidecarSettingsDefaults {
  /** The operator's values (chart `sidecar.settings`); unset ones fall to the formula or the sidecar's default. */
  readonly tunables: SidecarTunableValues;
  /** Forwarded besides the MCP endpoints (chart `sidecar.forwardPaths`), normalised. */
  readonly forwardPaths: readonly string[];
  /** The sidecar container's memory limit, e.g. "256Mi". */
  readonly memoryLimit: string | undefined;
}

export function sidecarSettingsArgs(annotations: Readonly<Record<string, string>>, defaults: SidecarSettingsDefaults): SidecarSettingsResult {
  const args: string[] = [];
  const limitBytes = memoryBytes(defaults.memoryLimit);
  for (const name of SIDECAR_TUNABLE_NAMES) {
    const tunable = SIDECAR_TUNABLES[name];
    const written = annotations[tunable.annotation];
    let value: number | undefined;
    if (written !== undefined) {
      const read = readTunable(tunable, written, `the annotation ${tunable.annotation}`);
      if (!read.ok) return { ok: false, message: read.message };
      value = read.value;
    } else {
      const formula: ((limit: number) => number) | undefined = "fromMemoryLimit" in tunable ? tunable.fromMemoryLimit : undefined;
      value = defaults.tunables[name] ?? (limitBytes === undefined || formula === undefined ? undefined : formula(limitBytes));
    }
    if (value !== undefined) args.push(`${tunable.flag}=${writeTunable(tunable, value)}`);
  }
  const listed = annotations[FORWARD_PATHS_ANNOTATION];
  let forwardPaths = defaults.forwardPaths;
  if (listed !== undefined) {
    const read: string[] = [];
    for (const entry of listed.split(",").map((part) => part.trim()).filter((part) => part !== "")) {
      const normalised = normaliseForwardPrefix(entry);
      if (!normalised.ok) return { ok: false, message: `the annotation ${FORWARD_PATHS_ANNOTATION}: ${normalised.message}` };
      read.push(normalised.prefix);
    }
    forwardPaths = read;
  }
  for (const path of forwardPaths) args.push(`${FORWARD_PATH_FLAG}=${path}`);
  return { ok: true, args };
}
