import type { PromptRecord } from "./promptRecord.js";
import { BITS, WIDTH, emptyNode, leafAt, mapTrie, nodesOutside, recordAt, trieNodes, visitTrie, withLeaf, withRecordAt, type TrieNode } from "./promptTrie.js";

/**
 * Trie positions by prompt id, shared by the versions of a list while they agree on them.
 * Append-only: a version adds the ids of the leaf it pushes into its trie only when it is at the
 * index's frontier (its trie is exactly `indexed` long); a version behind it (another version
 * appended from the same point) copies the part it agrees with instead. So every version sharing
 * an index has the same ids at every position below its own trie's length, and positions at or
 * past that length belong to other versions and are ignored.
 */
interface IdIndex {
  readonly positions: Map<string, number>;
  /** Ids of trie positions 0 … indexed - 1 are in `positions`. */
  indexed: number;
}

/** Thrown by {@link PromptList.append} and the updates when ids would stop being unique or change. */
export class PromptListError extends Error {
  readonly code = "PROMPT_LIST";
  constructor(message: string) {
    super(message);
    this.name = "PromptListError";
  }
}

/**
 * A session's prompts in submission order: an immutable, structurally shared list (a 32-way
 * persistent vector with a tail, and an id index; docs/adr/0012-persistent-prompt-list.md).
 * Appending, looking up or updating one prompt by id, the queue's head and length cost O(1) or
 * O(log32 N) whatever the list's length, and never change a list already handed out: each change
 * returns a new list sharing all but a few nodes with the old one.
 *
 * The prompts are a settled prefix followed by the queue: a prompt leaves the queue only from its
 * head (`prompt.dispatching` is guarded by `isQueueHead`), and the only way back in is a failed
 * dispatch requeueing the prompt that had just left the head. The list keeps where the trailing
 * run of `queued` prompts starts ({@link queueStart}) as it changes; the machine's property tests
 * check the invariant.
 *
 * It reads like a `ReadonlyArray` (`length`, `at`, iteration, `map`, `filter`, `some`, `every`,
 * `find`, `findIndex`, `forEach`, `slice`), and `JSON.stringify` writes it as the array it holds.
 * Two lists with the same prompts are deeply equal (`toEqual`, `isDeepStrictEqual`); against an
 * array, compare {@link toArray}.
 *
 * @example
 * const prompts = PromptList.empty.append({ id: "p1", text: "Hello", status: "queued", submittedAt: 1 });
 * const status = prompts.get("p1")?.status; // "queued"
 * const head = prompts.queueHead?.id; // "p1"
 * const json = JSON.stringify(prompts); // '[{"id":"p1","text":"Hello","status":"queued","submittedAt":1}]'
 */
export class PromptList implements Iterable<PromptRecord> {
  /** The list without prompts; every session starts from it. */
  static readonly empty: PromptList = new PromptList(0, 0, BITS, emptyNode, [], undefined);

  /** A list of `records`, in order. Throws {@link PromptListError} on a repeated id. */
  static from(records: Iterable<PromptRecord>): PromptList {
    let list = PromptList.empty;
    for (const record of records) list = list.append(record);
    return list;
  }

  readonly #ids: IdIndex | undefined;

  private constructor(
    /** How many prompts it holds. */
    readonly length: number,
    /** Where the queue starts: the position of its head, or `length` when nothing is queued. */
    readonly queueStart: number,
    private readonly shift: number,
    private readonly root: TrieNode,
    /** The last 1-32 records (none in the empty list), outside the trie until it is full. */
    private readonly tail: readonly PromptRecord[],
    ids: IdIndex | undefined,
  ) {
    this.#ids = ids;
  }

  /** The queue's head: the prompt to dispatch next. */
  get queueHead(): PromptRecord | undefined {
    return this.queueStart < this.length ? this.#recordAt(this.queueStart) : undefined;
  }

  /** How many prompts are queued. */
  get queueLength(): number {
    return this.length - this.queueStart;
  }

  /** The prompt at `index` (negative counts from the end, as `Array.prototype.at`). */
  at(index: number): PromptRecord | undefined {
    const whole = Math.trunc(index) || 0;
    const position = whole < 0 ? this.length + whole : whole;
    return position >= 0 && position < this.length ? this.#recordAt(position) : undefined;
  }

  /** The prompt with `id`, if any. */
  get(id: string): PromptRecord | undefined {
    const position = this.#positionOf(id);
    return position < 0 ? undefined : this.#recordAt(position);
  }

  has(id: string): boolean {
    return this.#positionOf(id) >= 0;
  }

  /** The list with `record` added at the end. Throws {@link PromptListError} when its id is already in the list. */
  append(record: PromptRecord): PromptList {
    if (this.has(record.id)) throw new PromptListError(`prompt ${record.id} is already in the list`);
    const length = this.length + 1;
    const queueStart = record.status === "queued" ? this.queueStart : length;
    if (this.tail.length < WIDTH) return new PromptList(length, queueStart, this.shift, this.root, [...this.tail, record], this.#ids);
    // The tail is full: it becomes the trie's next leaf, and its ids go into the index.
    const count = this.length - WIDTH;
    const { root, shift } = withLeaf(this.root, this.shift, count, this.tail);
    return new PromptList(length, queueStart, shift, root, [record], this.#indexWithTail(count));
  }

  /**
   * The list with the prompt `id` replaced by `change(prompt)`; this list when there is no such
   * prompt or `change` returns it as it was. `change` must keep the id.
   */
  update(id: string, change: (prompt: PromptRecord) => PromptRecord): PromptList {
    const position = this.#positionOf(id);
    if (position < 0) return this;
    const before = this.#recordAt(position);
    const after = change(before);
    if (after === before) return this;
    if (after.id !== id) throw new PromptListError(`an update may not change a prompt's id (${id} → ${after.id})`);
    const count = this.length - this.tail.length;
    const queueStart = this.#queueStartAfter(position, after);
    if (position < count) return new PromptList(this.length, queueStart, this.shift, withRecordAt(this.root, this.shift, position, after), this.tail, this.#ids);
    const tail = this.tail.slice();
    tail[position - count] = after;
    return new PromptList(this.length, queueStart, this.shift, this.root, tail, this.#ids);
  }

  /**
   * The list with every prompt replaced by `change(prompt)`, which must keep its id: O(N), for
   * what happens once in a session (settling its prompts when it ends).
   */
  updateEach(change: (prompt: PromptRecord) => PromptRecord): PromptList {
    const checked = (before: PromptRecord): PromptRecord => {
      const after = change(before);
      if (after.id !== before.id) throw new PromptListError(`an update may not change a prompt's id (${before.id} → ${after.id})`);
      return after;
    };
    const root = mapTrie(this.root, this.shift, checked);
    const tail = this.tail.map(checked);
    const count = this.length - tail.length;
    let queueStart = this.length;
    while (queueStart > 0 && (queueStart - 1 >= count ? tail[queueStart - 1 - count] : recordAt(root, this.shift, queueStart - 1))?.status === "queued") queueStart--;
    // Same ids at the same positions: the index stays valid for the new version.
    return new PromptList(this.length, queueStart, this.shift, root, tail, this.#ids);
  }

  /** The prompts from `start` up to (not including) `end`, as `Array.prototype.slice`. */
  slice(start = 0, end = this.length): PromptRecord[] {
    const from = clampIndex(start, this.length);
    const to = clampIndex(end, this.length);
    const records: PromptRecord[] = [];
    for (let position = from; position < to; position++) records.push(this.#recordAt(position));
    return records;
  }

  /** The queued prompts, in order. */
  queued(): PromptRecord[] {
    return this.slice(this.queueStart);
  }

  toArray(): PromptRecord[] {
    const records = new Array<PromptRecord>(this.length);
    this.#visit((record, position) => {
      records[position] = record;
    });
    return records;
  }

  /** `JSON.stringify` writes the prompts as an array: snapshots, logs and the inspector see what they saw before. */
  toJSON(): PromptRecord[] {
    return this.toArray();
  }

  *[Symbol.iterator](): IterableIterator<PromptRecord> {
    for (let position = 0; position < this.length - this.tail.length; position += WIDTH) yield* leafAt(this.root, this.shift, position) as readonly PromptRecord[];
    yield* this.tail;
  }

  forEach(visit: (prompt: PromptRecord, index: number) => void): void {
    this.#visit((record, position) => {
      visit(record, position);
    });
  }

  map<T>(change: (prompt: PromptRecord, index: number) => T): T[] {
    const mapped = new Array<T>(this.length);
    this.#visit((record, position) => {
      mapped[position] = change(record, position);
    });
    return mapped;
  }

  filter<S extends PromptRecord>(predicate: (prompt: PromptRecord, index: number) => prompt is S): S[];
  filter(predicate: (prompt: PromptRecord, index: number) => unknown): PromptRecord[];
  filter(predicate: (prompt: PromptRecord, index: number) => unknown): PromptRecord[] {
    const kept: PromptRecord[] = [];
    this.#visit((record, position) => {
      if (predicate(record, position)) kept.push(record);
    });
    return kept;
  }

  find<S extends PromptRecord>(predicate: (prompt: PromptRecord, index: number) => prompt is S): S | undefined;
  find(predicate: (prompt: PromptRecord, index: number) => unknown): PromptRecord | undefined;
  find(predicate: (prompt: PromptRecord, index: number) => unknown): PromptRecord | undefined {
    const index = this.findIndex(predicate);
    return index < 0 ? undefined : this.#recordAt(index);
  }

  findIndex(predicate: (prompt: PromptRecord, index: number) => unknown): number {
    let found = -1;
    this.#visit((record, position) => {
      if (!predicate(record, position)) return false;
      found = position;
      return true;
    });
    return found;
  }

  some(predicate: (prompt: PromptRecord, index: number) => unknown): boolean {
    return this.findIndex(predicate) >= 0;
  }

  every(predicate: (prompt: PromptRecord, index: number) => unknown): boolean {
    return this.findIndex((record, position) => !predicate(record, position)) < 0;
  }

  #recordAt(position: number): PromptRecord {
    const count = this.length - this.tail.length;
    return position >= count ? (this.tail[position - count] as PromptRecord) : recordAt(this.root, this.shift, position);
  }

  /** Where `id` is: the tail is searched (≤ 32 records), the trie through the index. */
  #positionOf(id: string): number {
    const count = this.length - this.tail.length;
    for (let index = this.tail.length - 1; index >= 0; index--) if (this.tail[index]?.id === id) return count + index;
    const position = this.#ids?.positions.get(id);
    return position !== undefined && position < count ? position : -1;
  }

  /** The index with this list's (full) tail at trie positions `count` … `count + 31`. */
  #indexWithTail(count: number): IdIndex {
    let ids = this.#ids;
    if (ids?.indexed !== count) {
      // Another version appended from here already (or no leaf was indexed yet): copy what is agreed.
      const positions = new Map<string, number>();
      if (ids !== undefined) for (const [id, position] of ids.positions) if (position < count) positions.set(id, position);
      ids = { positions, indexed: count };
    }
    for (const [index, record] of this.tail.entries()) ids.positions.set(record.id, count + index);
    ids.indexed = count + WIDTH;
    return ids;
  }

  /** Where the queue starts once the prompt at `position` is `record`. */
  #queueStartAfter(position: number, record: PromptRecord): number {
    const queued = record.status === "queued";
    if (!queued && position >= this.queueStart) return position + 1;
    if (!queued || position !== this.queueStart - 1) return this.queueStart;
    // A requeued head joins the queue, and so do queued prompts right before it (none in a session).
    let start = position;
    while (start > 0 && this.#recordAt(start - 1).status === "queued") start--;
    return start;
  }

  #visit(visit: (record: PromptRecord, position: number) => unknown): void {
    if (visitTrie(this.root, this.shift, 0, visit)) return;
    const count = this.length - this.tail.length;
    for (const [index, record] of this.tail.entries()) if (visit(record, count + index) === true) return;
  }

  /**
   * How many of `next`'s nodes (trie nodes and its tail) `previous` does not share: what a change
   * from `previous` to `next` allocated. For tests and benchmarks of structural sharing.
   */
  static copiedNodes(next: PromptList, previous: PromptList): number {
    const known = trieNodes(previous.root, previous.shift, new Set<TrieNode>());
    return nodesOutside(next.root, next.shift, known) + (next.tail === previous.tail ? 0 : 1);
  }
}

function clampIndex(index: number, length: number): number {
  const whole = Math.trunc(index) || 0;
  return whole < 0 ? Math.max(0, length + whole) : Math.min(whole, length);
}
