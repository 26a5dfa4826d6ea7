// The README's fenced code blocks, with the heading they stand under, for the tests that
// run what the README prints (DEVELOPERS.md, "README shell blocks": `sh` is runnable as
// written, `sh template` needs the user's own things and is never run).
import { readFileSync } from "node:fs";
import { join } from "node:path";
// Not from ../harness/index.ts: the end-to-end suite uses this too, without the control plane.
import { packageRoot as repoRoot } from "../../cli/package-root.ts";

export interface ReadmeBlock {
  /** The info string: `sh`, `sh template`, `console`, `yaml`... */
  info: string;
  /** The headings above the block, outermost first (`## Install in a cluster`, `### ...`). */
  headings: string[];
  /** 1-based line of the opening fence. */
  line: number;
  text: string;
}

export function readmeBlocks(file = join(repoRoot(), "README.md")): ReadmeBlock[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const blocks: ReadmeBlock[] = [];
  const headings: string[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    const heading = /^(#{1,6}) /.exec(line);
    if (heading !== null) {
      headings.length = (heading[1] as string).length - 1;
      headings[(heading[1] as string).length - 1] = line;
      continue;
    }
    const fence = /^(\s*)(```+)(.*)$/.exec(line);
    if (fence === null) continue;
    const [, indent, ticks, info] = fence as unknown as [string, string, string, string];
    const body: string[] = [];
    let end = index + 1;
    for (; end < lines.length && !(lines[end] as string).startsWith(`${indent}${ticks}`); end++) body.push((lines[end] as string).slice(indent.length));
    blocks.push({ info: info.trim(), headings: headings.filter((h) => h !== undefined), line: index + 1, text: body.join("\n") });
    index = end;
  }
  return blocks;
}

/** The `sh` blocks under a heading (its subsections included) whose text contains `marker`. */
export function shellBlocksUnder(heading: string, marker = ""): ReadmeBlock[] {
  return readmeBlocks().filter((block) => block.info === "sh" && block.headings.some((h) => h.replace(/^#+ /, "") === heading) && block.text.includes(marker));
}
