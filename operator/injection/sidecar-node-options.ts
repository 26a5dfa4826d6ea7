// NODE_OPTIONS for an injected sidecar, from its memory limit. Node may size its heap from
// the host rather than the container, and then collects so late that a busy sidecar's RSS
// reaches ~300 MB (measured: 32 callers at saturation, allow-all) with ~21 MB live — over
// the default 256Mi limit. Three eighths of the limit for the old space and 8 MB
// semi-spaces keep that load at ~136–151 MB, and ten minutes of `make soak` (mixed and
// hostile load) at a 193 MB peak (half the limit for the old space: 214 MB); the live heap
// stays far below the old space (docs/architecture.md).
// A limit this cannot read (or none) leaves only the semi-space flag.

const SEMI_SPACE_MB = 8;
const UNITS: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** A Kubernetes memory quantity ("256Mi", "1G", "268435456") in bytes; undefined when unreadable. */
export function memoryBytes(quantity: string | undefined): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity?.trim() ?? "");
  if (match === null) return undefined;
  const bytes = Number(match[1]) * (UNITS[match[2] ?? ""] ?? Number.NaN);
  return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
}

export function sidecarNodeOptions(memoryLimit: string | undefined): string {
  const bytes = memoryBytes(memoryLimit);
  const oldSpaceMb = bytes === undefined ? undefined : Math.max(32, Math.floor((bytes * 3) / 8 / 1024 ** 2));
  return [...(oldSpaceMb === undefined ? [] : [`--max-old-space-size=${oldSpaceMb}`]), `--max-semi-space-size=${SEMI_SPACE_MB}`].join(" ");
}
