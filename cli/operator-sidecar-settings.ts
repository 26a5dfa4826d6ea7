// The operator's flags for every injected sidecar's caps, timeouts and forwarded paths:
// `--sidecar-<the sidecar's flag>` (e.g. --sidecar-max-sessions=500) and
// `--sidecar-forward-path` (repeatable). A zero, negative or malformed value exits 2 naming
// the flag. Pods override each by annotation (operator/injection/sidecar-settings.ts).

import type { Command } from "commander";
import { normaliseForwardPrefix } from "../protocol/request-paths.ts";
import { readTunable, SIDECAR_TUNABLE_NAMES, SIDECAR_TUNABLES, type SidecarTunableName, type SidecarTunableValues } from "../protocol/sidecar-tunables.ts";

const FORWARD_PATH_FLAG = "--sidecar-forward-path";

/** `--max-sessions` → `--sidecar-max-sessions`, and commander's camelCase key for it. */
function operatorFlag(name: SidecarTunableName): { flag: string; key: string } {
  const flag = `--sidecar-${SIDECAR_TUNABLES[name].flag.slice(2)}`;
  return { flag, key: `sidecar${name.charAt(0).toUpperCase()}${name.slice(1)}` };
}

export function addSidecarSettingOptions(command: Command): Command {
  for (const name of SIDECAR_TUNABLE_NAMES) {
    const tunable = SIDECAR_TUNABLES[name];
    const placeholder = tunable.kind === "bytes" ? "<size>" : tunable.kind === "count" ? "<n>" : "<duration>";
    command.option(`${operatorFlag(name).flag} ${placeholder}`, `injected sidecars' ${tunable.flag} (default: from their memory limit or the sidecar's own; a pod's ${tunable.annotation} annotation overrides it)`);
  }
  return command.option(
    `${FORWARD_PATH_FLAG} <prefix>`,
    "a path injected sidecars forward besides the MCP endpoints (repeatable; a pod's mcpwarden.dev/forward-paths annotation replaces the list)",
    (value: string, previous: string[] = []) => [...previous, value],
  );
}

export type SidecarSettingsRead = { ok: true; tunables: SidecarTunableValues; forwardPaths: string[] } | { ok: false; message: string };

export function sidecarSettingsFromFlags(flags: Record<string, unknown>): SidecarSettingsRead {
  const tunables: { -readonly [name in SidecarTunableName]?: number } = {};
  for (const name of SIDECAR_TUNABLE_NAMES) {
    const { flag, key } = operatorFlag(name);
    const written = flags[key];
    if (written === undefined) continue;
    const read = readTunable(SIDECAR_TUNABLES[name], String(written), flag);
    if (!read.ok) return read;
    tunables[name] = read.value;
  }
  const forwardPaths: string[] = [];
  for (const written of (flags["sidecarForwardPath"] as string[] | undefined) ?? []) {
    const read = normaliseForwardPrefix(written);
    if (!read.ok) return { ok: false, message: `${FORWARD_PATH_FLAG} ${read.message}` };
    forwardPaths.push(read.prefix);
  }
  return { ok: true, tunables, forwardPaths };
}
