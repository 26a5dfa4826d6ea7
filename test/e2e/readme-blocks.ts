// The README's fenced shell blocks, by the convention DEVELOPERS.md documents: `sh` runs as
// written, `sh template` needs the reader's own things and is never run by a test.
export interface ShellBlock {
  /** 1-based line of the opening fence. */
  line: number;
  template: boolean;
  text: string;
}

/** Every `sh` / `sh template` block of a `## ` section (its subsections included), dedented. */
export function shellBlocks(markdown: string, heading: string): ShellBlock[] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((line) => line === `## ${heading}`);
  if (start < 0) throw new Error(`the README has no section "## ${heading}"`);
  const blocks: ShellBlock[] = [];
  for (let index = start + 1; index < lines.length; index++) {
    const line = lines[index] as string;
    if (line.startsWith("## ")) break;
    const fence = /^(\s*)```(sh(?: template)?)\s*$/.exec(line);
    if (fence === null) continue;
    const indent = (fence[1] as string).length;
    const opening = index + 1;
    const body: string[] = [];
    for (index++; index < lines.length && !/^\s*```\s*$/.test(lines[index] as string); index++) body.push((lines[index] as string).slice(indent));
    blocks.push({ line: opening, template: fence[2] === "sh template", text: body.join("\n") });
  }
  return blocks;
}
