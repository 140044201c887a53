/**
 * One kind of accidental damage to a stored stream: what a manual delete, a partial restore or a
 * bug leaves behind. Versions are the stream's own (1-based).
 *
 * - `deleteEvents`: those event rows are gone (a gap, or a shorter tail).
 * - `duplicateEvent`: the event is stored twice, the copy written later (a restore without
 *   constraints; on SQL stores the helper drops the `(stream_id, version)` unique key to do it).
 * - `swapEvents`: two events swapped places: each holds the other's version, so the later-written
 *   one now comes first.
 * - `truncateTail`: only the first `keep` events are left; with `moveStreamRow` the stream row is
 *   moved back to match, which no check can tell from a shorter log (see the store README).
 * - `corruptEvent`: the event's `data` (or `metadata`) is no longer JSON.
 * - `moveStreamRow`: the stream row's version is moved `by` ahead (positive) or behind (negative)
 *   of its events.
 * - `deleteStreamRow`: the stream row is gone, its events are left.
 */
export type StreamDamage =
  | { readonly kind: "deleteEvents"; readonly versions: readonly number[] }
  | { readonly kind: "duplicateEvent"; readonly version: number }
  | { readonly kind: "swapEvents"; readonly versions: readonly [number, number] }
  | { readonly kind: "truncateTail"; readonly keep: number; readonly moveStreamRow?: boolean }
  | { readonly kind: "corruptEvent"; readonly version: number; readonly column?: "data" | "metadata" }
  | { readonly kind: "moveStreamRow"; readonly by: number }
  | { readonly kind: "deleteStreamRow" };

/** The kinds of {@link StreamDamage}. */
export type StreamDamageKind = StreamDamage["kind"];

/** Every kind of {@link StreamDamage}, in a stable order. */
export const streamDamageKinds: readonly StreamDamageKind[] = ["deleteEvents", "duplicateEvent", "swapEvents", "truncateTail", "corruptEvent", "moveStreamRow", "deleteStreamRow"];

/** An event row as stored, in the store's own terms: to check that nothing rewrote or removed it. */
export interface StoredEventRow {
  readonly position: number;
  readonly version: number;
  readonly type: string;
  /** The stored JSON text, exactly (it may no longer be JSON after `corruptEvent`). */
  readonly data: string;
  readonly metadata: string;
}

/**
 * Damages streams of one store on purpose, for tests: the optional `damage` member of an
 * `EventStoreFixture` in the conformance suite. `sqlStreamDamager` builds one for the SQL stores.
 */
export interface StreamDamager {
  /** The kinds this backend can express; tests of other kinds skip themselves. */
  readonly kinds: readonly StreamDamageKind[];
  apply(streamId: string, damage: StreamDamage): Promise<void>;
  /** The stream's event rows as stored, in position order. */
  storedRows(streamId: string): Promise<readonly StoredEventRow[]>;
}

/**
 * A short description of a damage, for test names and failure messages.
 *
 * @example
 * ```ts
 * describeDamage({ kind: "deleteEvents", versions: [5, 7] }); // "deleteEvents 5,7"
 * ```
 */
export function describeDamage(damage: StreamDamage): string {
  switch (damage.kind) {
    case "deleteEvents":
      return `deleteEvents ${damage.versions.join(",")}`;
    case "duplicateEvent":
      return `duplicateEvent ${damage.version}`;
    case "swapEvents":
      return `swapEvents ${damage.versions.join(",")}`;
    case "truncateTail":
      return `truncateTail keep ${damage.keep}${damage.moveStreamRow === true ? " and move the stream row" : ""}`;
    case "corruptEvent":
      return `corruptEvent ${damage.version} ${damage.column ?? "data"}`;
    case "moveStreamRow":
      return `moveStreamRow ${damage.by > 0 ? "+" : ""}${damage.by}`;
    case "deleteStreamRow":
      return "deleteStreamRow";
  }
}

/** The numbers a property draws to pick where a damage lands (see {@link damageOfKind}). */
export interface DamageChoices {
  readonly a: number;
  readonly b: number;
  readonly by: number;
  readonly ahead: boolean;
  readonly column: "data" | "metadata";
}

/**
 * A damage of `kind` that really changes a stream of `length` events, placed by `choices` (natural
 * numbers, `by` 1 to 3): what the store's and the engine's damage properties apply.
 */
export function damageOfKind(kind: StreamDamageKind, length: number, { a, b, by, ahead, column }: DamageChoices): StreamDamage {
  const version = (a % length) + 1;
  switch (kind) {
    case "deleteEvents":
      return { kind, versions: [...new Set([version, (b % length) + 1])] };
    case "duplicateEvent":
      return { kind, version };
    case "swapEvents":
      // One event has nothing to swap with: cut it instead.
      return length < 2 ? { kind: "truncateTail", keep: 0 } : { kind, versions: [version, ((version + (b % (length - 1))) % length) + 1] };
    case "truncateTail":
      return { kind, keep: a % length };
    case "corruptEvent":
      return { kind, version, column };
    case "moveStreamRow":
      // A stream row stays above 0.
      return { kind, by: ahead || length < 2 ? by : -Math.min(by, length - 1) };
    case "deleteStreamRow":
      return { kind };
  }
}
