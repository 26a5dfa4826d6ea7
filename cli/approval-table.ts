// Approvals as a person reads them: a table with ages, or JSON/YAML for programs. Shared by
// `mcp-warden approvals` (standalone, the admin API) and `kubectl mcpwarden approvals`.

import { dump } from "js-yaml";

/** One approval, whatever it came from. Times are RFC 3339. */
export interface ApprovalRow {
  readonly namespace?: string;
  readonly name: string;
  readonly phase: string;
  readonly tool: string;
  readonly caller: string;
  readonly pod?: string;
  readonly requestedAt: string;
  readonly expiresAt: string;
  readonly decidedBy?: string;
}

export const OUTPUT_FORMATS = ["table", "json", "yaml"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function renderApprovals(rows: readonly ApprovalRow[], raw: unknown, format: OutputFormat, nowMs: number): string {
  if (format === "json") return JSON.stringify(raw, null, 2);
  if (format === "yaml") return dump(raw, { noRefs: true, lineWidth: -1 }).trimEnd();
  if (rows.length === 0) return "No approvals.";
  const withNamespace = rows.some((row) => row.namespace !== undefined);
  const withPod = rows.some((row) => row.pod !== undefined);
  const header = [...(withNamespace ? ["NAMESPACE"] : []), "NAME", "PHASE", "TOOL", "CALLER", ...(withPod ? ["POD"] : []), "AGE", "EXPIRES IN", "DECIDED BY"];
  const lines = rows.map((row) => [
    ...(withNamespace ? [row.namespace ?? ""] : []),
    row.name,
    row.phase,
    row.tool,
    row.caller === "" ? "<none>" : row.caller,
    ...(withPod ? [row.pod ?? ""] : []),
    age(nowMs - Date.parse(row.requestedAt)),
    row.phase === "Pending" ? age(Date.parse(row.expiresAt) - nowMs) : "-",
    row.decidedBy ?? "",
  ]);
  return table([header, ...lines]);
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3))).join("").trimEnd()).join("\n");
}

/** kubectl's style: 45s, 3m12s, 2h5m, 3d. */
function age(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 180) return `${minutes}m${seconds % 60 === 0 ? "" : `${seconds % 60}s`}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h${minutes % 60 === 0 ? "" : `${minutes % 60}m`}`;
  return `${Math.floor(hours / 24)}d`;
}
