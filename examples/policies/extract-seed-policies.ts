// Extracts the PolicyLayer JSON documents embedded in the seed pages, byte for byte,
// so the originals in this folder are provably the text users were given.
//
//   node examples/policies/extract-seed-policies.ts SEEDS_DIR          # write the files
//   node examples/policies/extract-seed-policies.ts SEEDS_DIR --check  # exit 1 on drift
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const seedToOriginal: ReadonlyArray<{ seedPrefix: string; original: string }> = [
  { seedPrefix: "000_", original: "mockloop.policylayer.json" },
  { seedPrefix: "002_", original: "mock-mcp.policylayer.json" },
];

/**
 * Returns the exact bytes of the first JSON object that starts a line, ending at its
 * matching brace. The seed text continues on the closing brace's line, so a line-based
 * cut would take prose with it; string-aware brace matching stops exactly at the end.
 */
export function extractFirstJsonObject(seed: Buffer): Buffer {
  const text = seed.toString("latin1"); // one char per byte: indices are byte offsets
  const start = text.startsWith("{") ? 0 : text.indexOf("\n{") + 1;
  if (start === 0 && !text.startsWith("{")) throw new Error("no line starts with '{'");
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return seed.subarray(start, i + 1);
  }
  throw new Error("unbalanced braces: the JSON object never closes");
}

function main(argv: readonly string[]): number {
  const seedsDir = argv[0];
  if (seedsDir === undefined) {
    console.error("usage: extract-seed-policies.ts SEEDS_DIR [--check]");
    return 2;
  }
  const check = argv.includes("--check");
  const here = dirname(fileURLToPath(import.meta.url));
  let drift = 0;
  for (const { seedPrefix, original } of seedToOriginal) {
    const seedName = readdirSync(seedsDir).find((f) => f.startsWith(seedPrefix));
    if (seedName === undefined) throw new Error(`no seed ${seedPrefix}* in ${seedsDir}`);
    const seed = readFileSync(join(seedsDir, seedName));
    const json = extractFirstJsonObject(seed);
    JSON.parse(json.toString("utf8")); // must be a complete document, not just balanced
    if (seed.indexOf(json) < 0) throw new Error("extracted bytes are not a substring of the seed");
    const target = join(here, original);
    if (check) {
      const same = readFileSync(target).equals(json);
      if (!same) drift++;
      console.log(`${same ? "ok   " : "DRIFT"} ${original} <- ${seedName}`);
    } else {
      writeFileSync(target, json);
      console.log(`wrote ${original} (${json.length} bytes) <- ${seedName}`);
    }
  }
  return drift === 0 ? 0 : 1;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
