// Which glob of a list, in precedence order, is the first to match a name — without
// trying every glob. A glob can only match names that start with its literal prefix
// (the text before its first wildcard) and end with its literal suffix (the text after
// its last one), so each glob is filed under the longer of the two in a radix tree (one
// for prefixes, one for suffixes read backwards). A name walks each tree once, along its
// own characters, and meets only the globs whose literal end it has; each list it meets
// is in precedence order, so a list is tried only until a glob matches or one ranks below
// the best match so far. Globs with no literal end (`*_admin_*`) can only match names
// that contain each of their literal runs: when there are many, each is filed under one
// three-character piece of its runs (the piece fewest of them share), and the name's own
// pieces find them. The rest (`*`, `*a*`) are tried in order.
//
// Cost per name: O(name length) to walk and look up, plus a full match only for
// candidates. Memory: at most two tree nodes per glob. Pure: built once per compiled policy.

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

/**
 * Below this many globs without a literal end, trying each is cheaper than looking up
 * every three characters of the name.
 */
const MIN_INFIX_INDEXED = 8;

export class GlobIndex {
  readonly #patterns: readonly string[];
  readonly #byPrefix: TreeNode = newNode();
  readonly #bySuffix: TreeNode = newNode();
  /** Globs without a literal end, by one three-character piece of their literal runs (see pieceAt). */
  readonly #byPiece = new Map<number, number[]>();
  /** Globs tried one by one, in precedence order. */
  readonly #unindexed: number[] = [];

  /** `globs` in precedence order: the first that matches wins. */
  constructor(globs: readonly CompiledGlob[]) {
    this.#patterns = globs.map((glob) => glob.pattern);
    const unanchored: number[] = [];
    globs.forEach((glob, rank) => {
      const suffix = literalSuffix(glob.pattern);
      if (glob.prefix.length === 0 && suffix.length === 0) unanchored.push(rank);
      else if (glob.prefix.length >= suffix.length) insert(this.#byPrefix, glob.prefix, false, rank);
      else insert(this.#bySuffix, suffix, true, rank);
    });
    if (unanchored.length < MIN_INFIX_INDEXED) this.#unindexed.push(...unanchored);
    else this.#fileByPiece(unanchored);
  }

  /** The position of the first glob (in precedence order) that matches `name`, or -1. */
  firstMatch(name: string): number {
    let best = this.#firstIn(this.#unindexed, name, Number.POSITIVE_INFINITY);
    if (this.#byPiece.size > 0) {
      for (let at = 0; at + 3 <= name.length; at++) {
        const ranks = this.#byPiece.get(pieceAt(name, at));
        if (ranks !== undefined) best = this.#firstIn(ranks, name, best);
      }
    }
    best = this.#walk(this.#byPrefix, name, false, best);
    best = this.#walk(this.#bySuffix, name, true, best);
    return Number.isFinite(best) ? best : -1;
  }

  /** Each glob under the piece of its literal runs that the fewest of them share; without one, unindexed. */
  #fileByPiece(ranks: readonly number[]): void {
    const piecesOf = ranks.map((rank) => literalPieces(this.#patterns[rank] as string));
    const sharedBy = new Map<number, number>();
    for (const pieces of piecesOf) for (const piece of pieces) sharedBy.set(piece, (sharedBy.get(piece) ?? 0) + 1);
    ranks.forEach((rank, index) => {
      let chosen: number | undefined;
      for (const piece of piecesOf[index] as Set<number>) {
        if (chosen === undefined || (sharedBy.get(piece) as number) < (sharedBy.get(chosen) as number)) chosen = piece;
      }
      if (chosen === undefined) return void this.#unindexed.push(rank);
      const filed = this.#byPiece.get(chosen);
      if (filed === undefined) this.#byPiece.set(chosen, [rank]);
      else filed.push(rank);
    });
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

/**
 * Three code units of `text` from `at`, folded into one small integer. Different pieces
 * may fold alike (outside ASCII): that only adds candidates, each matched in full anyway.
 */
function pieceAt(text: string, at: number): number {
  return (text.charCodeAt(at) << 20) ^ (text.charCodeAt(at + 1) << 10) ^ text.charCodeAt(at + 2);
}

/** Every three-character piece of the pattern's literal runs (between wildcards). */
function literalPieces(pattern: string): Set<number> {
  const pieces = new Set<number>();
  for (const run of pattern.split(/[*?]/)) for (let at = 0; at + 3 <= run.length; at++) pieces.add(pieceAt(run, at));
  return pieces;
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
