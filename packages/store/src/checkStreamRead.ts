import { decodeEventRow, placementOf, type EventPlacement, type EventRow } from "./eventRow.js";
import type { StoredEvent } from "./eventStore.js";
import { StoreError } from "./storeError.js";

/** What one read of one stream found, as the adapter got it: the input of {@link checkStreamRead}. */
export interface StreamReadFacts {
  readonly streamId: string;
  /** The version the stream row (the stream's summary) says; undefined when there is no stream row. */
  readonly rowVersion: number | undefined;
  /** The version of the stream's last stored event, whatever range was read; undefined when it has none. */
  readonly lastVersion: number | undefined;
  /** First version read (the `from` of {@link checkedRange}). */
  readonly fromVersion: number;
  /** Where the events read sit, in the order the adapter returned them (version order). */
  readonly events: readonly EventPlacement[];
}

/** Gaps (and out-of-order pairs) named in a message before the rest are only counted. */
const listed = 4;

/** The rows a checked read fetches for a range asked for, and how to take that range back out. */
export interface CheckedRange {
  /** First version to fetch: one before the range asked for (when there is one). */
  readonly from: number;
  /** Rows to fetch: the range plus one on each side; undefined for all. */
  readonly count: number | undefined;
  /** Whether the fetched row at `index` is in the range asked for (once the rows passed the check). */
  isAsked(index: number): boolean;
}

/**
 * The range a partial read fetches: the one asked for, widened by one event on each side. An event
 * swapped into or out of the range (or repeated at its edge) then shows as a fall in positions or
 * a repeat inside what was read; without the neighbours a read of that one event could not tell.
 *
 * @example
 * ```ts
 * checkedRange(5, 3); // { from: 4, count: 5, isAsked: (index) => index is 1, 2 or 3 }
 * ```
 */
export function checkedRange(fromVersion: number, maxCount: number | undefined): CheckedRange {
  const before = fromVersion > 1 ? 1 : 0;
  return {
    from: fromVersion - before,
    count: maxCount === undefined ? undefined : maxCount + before + 1,
    // A checked read starts at `from` (or is empty), so the range starts `before` events in.
    isAsked: (index) => index >= before && (maxCount === undefined || index < before + maxCount),
  };
}

/**
 * Decodes a checked read's rows: those in the range asked for in full, the neighbours only as far
 * as the check needs (their JSON is never parsed).
 *
 * @throws StoreError `CORRUPTED_EVENT` for a row of the range that does not decode.
 * @example
 * ```ts
 * const { placements, asked } = decodeRange(rows, checkedRange(5, 3));
 * checkStreamRead({ streamId, rowVersion, lastVersion, fromVersion: 4, events: placements });
 * ```
 */
export function decodeRange(rows: readonly EventRow[], range: CheckedRange): { placements: EventPlacement[]; asked: StoredEvent[] } {
  const placements: EventPlacement[] = [];
  const asked: StoredEvent[] = [];
  for (const [index, row] of rows.entries()) {
    if (!range.isAsked(index)) {
      placements.push(placementOf(row));
      continue;
    }
    const event = decodeEventRow(row);
    placements.push(event);
    asked.push(event);
  }
  return { placements, asked };
}

/**
 * Checks that a read of one stream is a whole, untouched piece of its log, in one pass over what
 * was read: versions contiguous from `fromVersion` (no gap, no repeat), positions increasing with
 * version, the stream row's version equal to its last event's, no events without a stream row and
 * no stream row without events. A partial read sees only what it fetched ({@link checkedRange}): a
 * gap elsewhere is found by the read that covers it.
 *
 * This catches accidental damage (rows deleted by hand, a partial restore, a bug), not forgery: a
 * log truncated at its tail whose stream row was moved back to match looks like a shorter log.
 *
 * @throws StoreError `CORRUPTED_LOG` whose message names the stream and what is wrong, with
 *   `details.streamId` and `details.version` (the first version where the damage shows).
 * @example
 * ```ts
 * checkStreamRead({ streamId: "s-1", rowVersion: 2, lastVersion: 2, fromVersion: 1, events });
 * ```
 */
export function checkStreamRead(facts: StreamReadFacts): void {
  const damage = streamDamage(facts);
  if (damage !== undefined) throw damage;
}

/**
 * {@link checkStreamRead} as a value: the `CORRUPTED_LOG` error a read's facts amount to, or
 * undefined when they are whole. The SQL adapters also ask it, after a unique-key violation, whether
 * an append ran into a stream row behind its events (damage) rather than a concurrent writer.
 *
 * @example
 * ```ts
 * streamDamage({ streamId: "s-1", rowVersion: 5, lastVersion: 7, fromVersion: 8, events: [] });
 * // CORRUPTED_LOG "stream s-1 is damaged: its stream row says version 5 but it has events up to version 7 …"
 * ```
 */
export function streamDamage(facts: StreamReadFacts): StoreError | undefined {
  const { streamId, rowVersion, lastVersion, fromVersion, events } = facts;
  if (rowVersion === undefined && lastVersion === undefined && events.length === 0) return undefined; // no such stream
  if (rowVersion !== undefined && lastVersion === undefined) return corrupted(streamId, [`it has no events (its stream row says version ${rowVersion})`], 1);

  const missing: [number, number][] = [];
  const repeated = new Map<number, number[]>();
  // Indexes (into events) of the first and last event of the stretch whose positions fall.
  let misordered: { first: number; last: number } | undefined;
  let previousIndex = 0;
  let backwards: string | undefined;
  let firstBad = Number.POSITIVE_INFINITY;
  let expected = fromVersion;
  let previousVersion = 0;
  // The lowest position of the previous version: a repeated row (written later, with a higher
  // position) must not make the next version look out of order too.
  let previousPosition = 0;
  for (const [index, { version, position }] of events.entries()) {
    if (index > 0 && version === previousVersion) {
      const positions = repeated.get(version) ?? [previousPosition];
      positions.push(position);
      repeated.set(version, positions);
      previousPosition = Math.min(previousPosition, position);
      firstBad = Math.min(firstBad, version);
      continue;
    }
    if (index > 0 && version < previousVersion) {
      backwards = `version ${version} comes after version ${previousVersion}`;
      firstBad = Math.min(firstBad, version);
      break;
    }
    if (version > expected) {
      missing.push([expected, version - 1]);
      firstBad = Math.min(firstBad, expected);
    }
    if (index > 0 && position <= previousPosition) {
      misordered = { first: misordered?.first ?? previousIndex, last: index };
      firstBad = Math.min(firstBad, previousVersion);
    }
    previousIndex = index;
    previousVersion = version;
    previousPosition = position;
    expected = version + 1;
  }

  const problems: string[] = [];
  const last = lastVersion ?? previousVersion;
  if (rowVersion === undefined) {
    problems.push(`it has events up to version ${last} but no stream row`);
    firstBad = Math.min(firstBad, 1);
  } else if (last < rowVersion) {
    // Nothing is stored past the last event: everything after it up to the row's version is gone.
    missing.push([last + 1, rowVersion]);
    firstBad = Math.min(firstBad, last + 1);
  }
  if (missing.length > 0) {
    const tail = rowVersion !== undefined && last < rowVersion ? `, its last event is version ${last}` : "";
    problems.push(`${describeMissing(missing)}${rowVersion === undefined ? "" : ` (its stream row says version ${rowVersion}${tail})`}`);
  }
  if (rowVersion !== undefined && last > rowVersion) {
    problems.push(`its stream row says version ${rowVersion} but it has events up to version ${last} (the stream row is behind its events)`);
    firstBad = Math.min(firstBad, rowVersion + 1);
  }
  for (const [version, positions] of repeated) problems.push(`version ${version} is stored ${positions.length === 2 ? "twice" : `${positions.length} times`} (positions ${namesOf(positions.sort((a, b) => a - b).map(String))})`);
  if (misordered !== undefined) problems.push(describeMisordered(events.slice(misordered.first, misordered.last + 1)));
  if (backwards !== undefined) problems.push(backwards);
  return problems.length === 0 ? undefined : corrupted(streamId, problems, firstBad);
}

function corrupted(streamId: string, problems: readonly string[], version: number): StoreError {
  return new StoreError("CORRUPTED_LOG", `stream ${streamId} is damaged: ${problems.join("; ")}`, { details: { streamId, version } });
}

/** "version 5 is missing", "versions 5 and 7 are missing", "versions 2, 8 to 12 and 20 are missing". */
function describeMissing(ranges: readonly (readonly [number, number])[]): string {
  const count = ranges.reduce((sum, [from, to]) => sum + to - from + 1, 0);
  // A gap of one or two versions is named version by version, a longer one as a range.
  const items = ranges.flatMap(([from, to]) => (to - from < 2 ? Array.from({ length: to - from + 1 }, (_, offset) => `${from + offset}`) : [`${from} to ${to}`]));
  return `${count === 1 ? "version" : "versions"} ${namesOf(items)} ${count === 1 ? "is" : "are"} missing`;
}

/** "versions 3 to 5 are out of order (positions 5, 4, 3)": written in another order than their versions say. */
function describeMisordered(stretch: readonly EventPlacement[]): string {
  // A repeated version (reported on its own) is listed once, by its first row.
  const rows = stretch.filter((event, index) => index === 0 || event.version !== stretch[index - 1]?.version);
  const positions = rows.slice(0, listed * 2).map((event) => event.position);
  const more = rows.length > positions.length ? ", …" : "";
  const from = stretch[0]?.version ?? 0;
  const to = stretch.at(-1)?.version ?? 0;
  return `versions ${from} ${to === from + 1 ? "and" : "to"} ${to} are out of order (positions ${positions.join(", ")}${more})`;
}

/** "5", "5 and 7", "1, 3, 5, 7 and 2 more". */
function namesOf(items: readonly string[]): string {
  const named = items.length > listed ? [...items.slice(0, listed), `${items.length - listed} more`] : items;
  return named.length === 1 ? (named[0] ?? "") : `${named.slice(0, -1).join(", ")} and ${named.at(-1) ?? ""}`;
}
