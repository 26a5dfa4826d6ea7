// What the tool catalog and definition digests cost per tools/list (not a test): the
// sidecar's whole handling of a tools/list result (strict parse, catalog, filter,
// rewrite) for a small and a large listing, beside the digests alone, and with pins and
// advertised constraints on. "steady" is a listing the catalog has seen (each tool's text
// compared, nothing digested or recorded); "anew" digests and records every tool. Also: compiling a listed
// inputSchema (once per definition, on the first call that checks it).
//
//   node bench/tool-definitions.ts     (or import { runToolDefinitionsBench } from "./tool-definitions.ts")

import { pathToFileURL } from "node:url";
import { CompileCache, compilePolicies, toolDefinitionDigest, type DecisionTable, type McpPolicy } from "../policy/index.ts";
import { allPolicyEngines } from "../policy/all-engines.ts";
import { ServerSchemaCompiler } from "../policy/server-schema.ts";
import { ResponseWatch } from "../sidecar/proxy/replies/response-watch.ts";
import { messageContext, processServerMessage } from "../sidecar/proxy/replies/server-message.ts";
import { ToolCatalog } from "../sidecar/proxy/replies/tool-catalog.ts";

const SAMPLES = 2_000;
const WARMUP = 200;

interface Figure {
  scenario: string;
  tools: number;
  bytes: number;
  medianUs: number;
  p99Us: number;
}

/** A tool as servers write them: a description, a few typed properties, some constraints. */
function tool(index: number): Record<string, unknown> {
  return {
    name: `tool_${index}`,
    title: `Tool ${index}`,
    description: `Does thing number ${index} to the selected runs. Returns a summary of what changed, one line per run, newest first.`,
    inputSchema: {
      type: "object",
      properties: {
        run_id: { type: "string", pattern: "^r-[0-9]+$", description: "The run to act on." },
        limit: { type: "integer", minimum: 1, maximum: 100, description: "At most this many lines." },
        mode: { type: "string", enum: ["fast", "thorough", "dry-run"] },
        labels: { type: "array", items: { type: "string", maxLength: 64 }, maxItems: 16 },
      },
      required: ["run_id"],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: index % 2 === 0, openWorldHint: false },
  };
}

function listing(count: number): { text: string; tools: Record<string, unknown>[] } {
  const tools = Array.from({ length: count }, (_, index) => tool(index));
  return { text: JSON.stringify({ jsonrpc: "2.0", id: 7, result: { tools } }), tools };
}

function table(spec: McpPolicy["spec"]): DecisionTable {
  const compiled = compilePolicies([{ apiVersion: "mcpwarden.dev/v1alpha1", kind: "McpPolicy", metadata: { name: "bench", namespace: "agents" }, spec }], new CompileCache(allPolicyEngines()));
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  return compiled.table;
}

function time(samples: number, run: () => void): { medianUs: number; p99Us: number } {
  for (let i = 0; i < WARMUP; i++) run();
  const durations = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const start = process.hrtime.bigint();
    run();
    durations[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  durations.sort();
  return { medianUs: round(durations[Math.floor(samples / 2)] ?? 0), p99Us: round(durations[Math.floor(samples * 0.99)] ?? 0) };
}

const round = (us: number): number => Math.round(us * 10) / 10;

function handleListing(text: string, decisions: DecisionTable, catalog: () => ToolCatalog): () => void {
  return () => {
    const watch = new ResponseWatch();
    watch.add(7, "tools/list");
    const context = messageContext({ table: () => decisions, catalog: catalog(), definitions: undefined, limits: { maxDepth: 64 } }, [watch], () => undefined);
    processServerMessage(text, context);
  };
}

export async function runToolDefinitionsBench(): Promise<object> {
  const figures: Figure[] = [];
  for (const count of [6, 100]) {
    const { text, tools } = listing(count);
    const allowAll = table({ default: "allow" });
    const pins = Object.fromEntries(tools.map((entry) => [entry["name"] as string, toolDefinitionDigest(entry)]));
    const pinned = table({ default: "allow", toolDefinitions: { mode: "pin", pins } });
    const advertising = table({ default: "allow", advertiseConstraints: true, allTools: { limits: [{ counter: "all", window: "minute", max: 10 }] } });
    const steady = new ToolCatalog();
    handleListing(text, allowAll, () => steady)();
    const samples = count > 10 ? SAMPLES / 4 : SAMPLES;
    const add = (scenario: string, run: () => void): void => void figures.push({ scenario, tools: count, bytes: text.length, ...time(samples, run) });
    add("digests alone (every tool of the listing)", () => {
      for (const entry of tools) toolDefinitionDigest(entry);
    });
    add("tools/list handled, catalog steady (allow-all)", handleListing(text, allowAll, () => steady));
    add("tools/list handled, every tool recorded anew", handleListing(text, allowAll, () => new ToolCatalog()));
    add("tools/list handled, pins (mode pin), catalog steady", handleListing(text, pinned, () => steady));
    add("tools/list handled, advertised constraints, catalog steady", handleListing(text, advertising, () => steady));
  }
  const compiler = new ServerSchemaCompiler();
  const schema = tool(0)["inputSchema"];
  const compile = time(500, () => compiler.compile(schema));
  const result = { figures, serverSchemaCompileUs: compile };
  for (const figure of figures) console.log(`[definitions] ${String(figure.tools).padStart(3)} tools ${figure.scenario}: median ${figure.medianUs} µs, p99 ${figure.p99Us} µs`);
  console.log(`[definitions] compiling one listed inputSchema: median ${compile.medianUs} µs, p99 ${compile.p99Us} µs`);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await runToolDefinitionsBench();
