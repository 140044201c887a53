import type { PromptRecord } from "./promptRecord.js";

/*
 * The trie under a PromptList: a 32-way persistent vector (Clojure's, after Bagwell). Records sit
 * in leaves of 32 in position order; a node at `level` L > 0 holds nodes of level L - 5, and the
 * child holding position p is `(p >>> L) & 31`; a leaf is level 0. Nodes are never changed once
 * built: a change copies the path from the root to its leaf (at most ⌈log32 N⌉ arrays of ≤ 32) and
 * shares everything else. Arrays hold only the children that exist, so the shape of a trie is a
 * function of its length alone, and two tries with the same records are deeply equal.
 */

export const BITS = 5;
export const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;

/** A trie node: records in a leaf (level 0), nodes above. */
export type TrieNode = readonly (TrieNode | PromptRecord)[];

export const emptyNode: TrieNode = [];

/** The record at trie position `position` of a trie whose root is at `shift`. */
export function recordAt(root: TrieNode, shift: number, position: number): PromptRecord {
  return leafAt(root, shift, position)[position & MASK] as PromptRecord;
}

/** The leaf holding trie position `position`. */
export function leafAt(root: TrieNode, shift: number, position: number): TrieNode {
  let node = root;
  for (let level = shift; level > 0; level -= BITS) node = node[(position >>> level) & MASK] as TrieNode;
  return node;
}

/** A copy of the trie with `record` at `position` (an existing position): the path is copied, the rest shared. */
export function withRecordAt(node: TrieNode, level: number, position: number, record: PromptRecord): TrieNode {
  const copy = node.slice();
  if (level === 0) copy[position & MASK] = record;
  else {
    const child = (position >>> level) & MASK;
    copy[child] = withRecordAt(node[child] as TrieNode, level - BITS, position, record);
  }
  return copy;
}

/**
 * The trie (root and shift) with a full leaf added at trie position `count` (the trie's length, a
 * multiple of 32): a new root level when the old one is full, else the path to the new leaf.
 */
export function withLeaf(root: TrieNode, shift: number, count: number, leaf: TrieNode): { readonly root: TrieNode; readonly shift: number } {
  // The root at `shift` holds 2^shift leaves.
  if (count >>> BITS >= 1 << shift) return { root: [root, pathTo(shift, leaf)], shift: shift + BITS };
  return { root: pushLeaf(root, shift, count, leaf), shift };
}

function pushLeaf(node: TrieNode, level: number, count: number, leaf: TrieNode): TrieNode {
  const copy = node.slice();
  const child = (count >>> level) & MASK;
  if (level === BITS) copy[child] = leaf;
  else {
    const existing = node[child] as TrieNode | undefined;
    copy[child] = existing === undefined ? pathTo(level - BITS, leaf) : pushLeaf(existing, level - BITS, count, leaf);
  }
  return copy;
}

/** A chain of single-child nodes from `level` down to `leaf`. */
function pathTo(level: number, leaf: TrieNode): TrieNode {
  return level === 0 ? leaf : [pathTo(level - BITS, leaf)];
}

/** The trie with every record replaced by `change(record)`: the same shape, every node new. */
export function mapTrie(node: TrieNode, level: number, change: (record: PromptRecord) => PromptRecord): TrieNode {
  return level === 0 ? node.map((record) => change(record as PromptRecord)) : node.map((child) => mapTrie(child as TrieNode, level - BITS, change));
}

/**
 * Calls `visit` with each record of the trie and its position, in order, until it returns `true`;
 * whether it did.
 */
export function visitTrie(node: TrieNode, level: number, offset: number, visit: (record: PromptRecord, position: number) => unknown): boolean {
  if (level === 0) {
    for (let index = 0; index < node.length; index++) if (visit(node[index] as PromptRecord, offset + index) === true) return true;
    return false;
  }
  for (let index = 0; index < node.length; index++) if (visitTrie(node[index] as TrieNode, level - BITS, offset + (index << level), visit)) return true;
  return false;
}

/** Every node of the trie (leaves included). */
export function trieNodes(node: TrieNode, level: number, into: Set<TrieNode>): Set<TrieNode> {
  into.add(node);
  if (level > 0) for (const child of node) trieNodes(child as TrieNode, level - BITS, into);
  return into;
}

/** How many nodes of the trie are not in `known`; shared subtrees are not walked. */
export function nodesOutside(node: TrieNode, level: number, known: ReadonlySet<TrieNode>): number {
  if (known.has(node)) return 0;
  let count = 1;
  if (level > 0) for (const child of node) count += nodesOutside(child as TrieNode, level - BITS, known);
  return count;
}
