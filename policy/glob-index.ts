// Which glob of a list, in precedence order, is the first to match a name — without
// trying every glob. A glob can only match names that start with its literal prefix
// (the text before its first wildcard) and end with its literal suffix (the text after
// its last one), so each glob is filed under the longer of the two in a radix tree (one
// for prefixes, one for suffixes read backwards). A name walks each tree once, along its
// own characters, and meets only the globs whose literal end it has; each list it meets
// is in precedence order, so a list is tried only until a glob matches or one ranks below
// the best match so far. Globs with no literal end (`*`, `*_admin_*`) are tried in order.
//
// Cost per name: O(name length) to walk, plus a full match only for candidates. Memory:
// at most two tree nodes per glob. Pure: built once per compiled policy.

import { globMatches, type CompiledGlob } from "./glob.ts";

interface TreeNode {
  /** Positions (in precedence order) of the globs filed under exactly this key. */
  readonly ranks: number[];
  /** By the first code unit of the edge's label. */
  edges: Map<number, TreeEdge> | undefined;
}

interface TreeEdge {
  /** Code units of the key after the parent, in reading order (backwards for suffixes). */
  label: string;
  node: TreeNode;
}

export class GlobIndex {
  readonly #patterns: readonly string[];
  readonly #byPrefix: TreeNode = newNode();
  readonly #bySuffix: TreeNode = newNode();
  /** Globs with neither a literal prefix nor a literal suffix, in precedence order. */
  readonly #unanchored: number[] = [];

  /** `globs` in precedence order: the first that matches wins. */
  constructor(globs: readonly CompiledGlob[]) {
    this.#patterns = globs.map((glob) => glob.pattern);
    globs.forEach((glob, rank) => {
      const suffix = literalSuffix(glob.pattern);
      if (glob.prefix.length === 0 && suffix.length === 0) this.#unanchored.push(rank);
      else if (glob.prefix.length >= suffix.length) insert(this.#byPrefix, glob.prefix, false, rank);
      else insert(this.#bySuffix, suffix, true, rank);
    });
  }

  /** The position of the first glob (in precedence order) that matches `name`, or -1. */
  firstMatch(name: string): number {
    let best = this.#firstIn(this.#unanchored, name, Number.POSITIVE_INFINITY);
    best = this.#walk(this.#byPrefix, name, false, best);
    best = this.#walk(this.#bySuffix, name, true, best);
    return Number.isFinite(best) ? best : -1;
  }

  #walk(root: TreeNode, name: string, backwards: boolean, best: number): number {
    let node: TreeNode | undefined = root;
    let read = 0;
    while (node !== undefined) {
      best = this.#firstIn(node.ranks, name, best);
      if (read >= name.length || node.edges === undefined) break;
      const edge = node.edges.get(unitAt(name, read, backwards));
      if (edge === undefined || !hasLabelAt(name, read, edge.label, backwards)) break;
      read += edge.label.length;
      node = edge.node;
    }
    return best;
  }

  /** The first of `ranks` (ascending) below `best` whose glob matches, else `best`. */
  #firstIn(ranks: readonly number[], name: string, best: number): number {
    for (const rank of ranks) {
      if (rank >= best) break;
      if (globMatches(this.#patterns[rank] as string, name)) return rank;
    }
    return best;
  }
}

function newNode(): TreeNode {
  return { ranks: [], edges: undefined };
}

/** The literal text after the last wildcard (the whole pattern when it has none). */
function literalSuffix(pattern: string): string {
  const lastWildcard = Math.max(pattern.lastIndexOf("*"), pattern.lastIndexOf("?"));
  return pattern.slice(lastWildcard + 1);
}

/** The `index`-th code unit of `text`, counted from its end when `backwards`. */
function unitAt(text: string, index: number, backwards: boolean): number {
  return text.charCodeAt(backwards ? text.length - 1 - index : index);
}

/** Whether `text`, from its `read`-th code unit on (from the end when `backwards`), continues with `label`. */
function hasLabelAt(text: string, read: number, label: string, backwards: boolean): boolean {
  if (read + label.length > text.length) return false;
  for (let index = 0; index < label.length; index++) {
    if (unitAt(text, read + index, backwards) !== label.charCodeAt(index)) return false;
  }
  return true;
}

/** Files `rank` under `key` (read backwards when `backwards`), splitting an edge where keys part. */
function insert(root: TreeNode, key: string, backwards: boolean, rank: number): void {
  const label = (from: number): string => {
    let text = "";
    for (let index = from; index < key.length; index++) text += String.fromCharCode(unitAt(key, index, backwards));
    return text;
  };
  let node = root;
  let read = 0;
  while (read < key.length) {
    const first = unitAt(key, read, backwards);
    const edge = node.edges?.get(first);
    if (edge === undefined) {
      const leaf = newNode();
      (node.edges ??= new Map()).set(first, { label: label(read), node: leaf });
      node = leaf;
      break;
    }
    let common = 0;
    while (common < edge.label.length && read + common < key.length && edge.label.charCodeAt(common) === unitAt(key, read + common, backwards)) common++;
    if (common < edge.label.length) {
      const middle: TreeNode = { ranks: [], edges: new Map([[edge.label.charCodeAt(common), { label: edge.label.slice(common), node: edge.node }]]) };
      edge.label = edge.label.slice(0, common);
      edge.node = middle;
    }
    node = edge.node;
    read += common;
  }
  node.ranks.push(rank);
}
