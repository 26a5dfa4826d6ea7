// Scaling: a tools/list result of 1,000 and 10,000 tools through filterToolsList and
// through the sidecar's whole path for one listing (processServerMessage: JSON parse,
// strict parse, filter, serialise), beside the floor any rewriting proxy pays (JSON.parse
// and JSON.stringify of the same text), with 50 and 10,000 rules.

import type { DecisionTable } from "../policy/decision-table.ts";
import { filterToolsList } from "../policy/index.ts";
import { DEFAULT_MAX_DEPTH } from "../sidecar/jsonrpc/strict-json.ts";
import { ResponseWatch } from "../sidecar/proxy/replies/response-watch.ts";
import { messageContext, processServerMessage } from "../sidecar/proxy/replies/server-message.ts";
import { ToolCatalog } from "../sidecar/proxy/replies/tool-catalog.ts";
import { compileTable, LAYOUTS, scalingPolicies, scanningTable } from "./scaling-policy.ts";
import { printTable, quantile, ratio, round } from "./text-table.ts";

const GLOBS = LAYOUTS[1] as (typeof LAYOUTS)[number]; // p3_group_7_*: each policy's own prefixes

/** A listing as a server writes it: every tenth tool hidden by the policies (debug_*), the rest spread over their rules and beyond. */
function listingText(tools: number): string {
  const list = Array.from({ length: tools }, (_, i) => ({
    // Names are unique, as in a real listing (the sidecar's tool catalog digests a name's definition again when it changes).
    name: i % 10 === 0 ? `debug_tool_${i}` : i % 3 === 0 ? `unlisted_tool_${i}` : `${GLOBS.matching(i % 40, i % 250)}_${i}`,
    description: `Tool ${i}: runs one step of the mock test suite against the staging API and reports what it found.`,
    inputSchema: {
      type: "object",
      properties: { target: { type: "string", description: "where to run" }, iterations: { type: "integer", minimum: 1, maximum: 5 } },
      required: ["target"],
    },
  }));
  return JSON.stringify({ jsonrpc: "2.0", id: 7, result: { tools: list } });
}

interface Timing {
  runs: number;
  p50Ms: number;
  maxMs: number;
}

function time(runs: number, work: () => unknown): Timing {
  for (let i = 0; i < 3; i++) work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    work();
    times.push(performance.now() - start);
  }
  return { runs, p50Ms: round(quantile(times, 0.5), 3), maxMs: round(quantile(times, 1), 3) };
}

interface ToolsListRow {
  tools: number;
  bytes: number;
  rules: number;
  policies: number;
  listed: number;
  floor: Timing;
  filter: Timing;
  filterByScan: Timing;
  wholePath: Timing;
}

export function runToolsListScaling(): { method: string; rows: ToolsListRow[] } {
  const rows: ToolsListRow[] = [];
  for (const rules of [50, 10_000]) {
    const policies = scalingPolicies(GLOBS, rules);
    const table = compileTable(policies);
    const scanning = scanningTable(table);
    for (const tools of [1_000, 10_000]) {
      const text = listingText(tools);
      const parsed = (JSON.parse(text) as { result: { tools: { name: string }[] } }).result.tools;
      const runs = tools >= 10_000 ? 15 : 60;
      const watch = new ResponseWatch();
      // As the sidecar builds it, with the catalog of listed tools it keeps across listings.
      const core = { table: (): DecisionTable => table, catalog: new ToolCatalog(), definitions: undefined, limits: { maxDepth: DEFAULT_MAX_DEPTH } };
      const context = messageContext(core, [watch], () => undefined);
      watch.add(7, "tools/list");
      const listed = (JSON.parse(processServerMessage(text, context).text) as { result: { tools: unknown[] } }).result.tools.length;
      const wholePath = time(runs, () => {
        watch.add(7, "tools/list");
        return processServerMessage(text, context);
      });
      rows.push({
        tools,
        bytes: text.length,
        rules,
        policies: policies.length,
        listed,
        floor: time(runs, () => JSON.stringify(JSON.parse(text))),
        filter: time(runs, () => filterToolsList(table, parsed)),
        filterByScan: time(Math.max(3, Math.floor(runs / 5)), () => filterToolsList(scanning, parsed)),
        wholePath,
      });
    }
  }
  const growth = (row: ToolsListRow, pick: (r: ToolsListRow) => number) => {
    const small = rows.find((other) => other.rules === row.rules && other.tools === 1_000);
    return small === undefined ? "–" : ratio(pick(row), pick(small));
  };
  printTable(
    "scaling: tools/list filtering (ms per listing; ×1k = against the 1,000-tool listing with the same rules)",
    ["tools", "MB", "rules", "listed", "parse+stringify", "filter", "×1k", "filter by scan", "whole path p50", "max", "×1k", "whole/floor"],
    rows.map((row) => [
      row.tools.toLocaleString("en"),
      (row.bytes / 2 ** 20).toFixed(1),
      `${row.rules.toLocaleString("en")} (${row.policies} pol.)`,
      row.listed.toLocaleString("en"),
      row.floor.p50Ms.toFixed(2),
      row.filter.p50Ms.toFixed(2),
      growth(row, (r) => r.filter.p50Ms),
      row.filterByScan.p50Ms.toFixed(2),
      row.wholePath.p50Ms.toFixed(2),
      row.wholePath.maxMs.toFixed(2),
      growth(row, (r) => r.wholePath.p50Ms),
      ratio(row.wholePath.p50Ms, row.floor.p50Ms),
    ]),
    [
      `whole path: processServerMessage on the reply text (JSON.parse, the strict parse for duplicate keys, the tool catalog, filterToolsList, JSON.stringify of the filtered result).`,
      `The sidecar reads a reply whole only up to --max-inspected-reply-bytes (8 MiB by default, 1/32 of the memory limit under the injector): a larger listing is refused, not filtered.`,
    ],
  );
  return {
    method: "one listing per run, performance.now() around each; floor = JSON.stringify(JSON.parse(text)); filter = filterToolsList on the parsed tools; whole path = processServerMessage with the id watched as tools/list; filter by scan = the same tables with every glob tried in order",
    rows,
  };
}
