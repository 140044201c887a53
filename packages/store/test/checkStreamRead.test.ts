import { isStoreError, type StoredEvent } from "@cloudsession/store";
import { describe, expect, it } from "vitest";
import { checkStreamRead, checkedRange, streamDamage, type StreamReadFacts } from "../src/checkStreamRead.js";

/** Events at these [version, position] pairs, in this order. */
const events = (...pairs: readonly (readonly [number, number])[]): StoredEvent[] =>
  pairs.map(([version, position]) => ({ streamId: "s", version, position, checkpoint: `1/${position}` as StoredEvent["checkpoint"], type: "E", data: {}, metadata: {}, recordedAt: 0 }));
const whole = (count: number): StoredEvent[] => events(...Array.from({ length: count }, (_, index) => [index + 1, index + 1] as const));
const facts = (overrides: Partial<StreamReadFacts>): StreamReadFacts => ({ streamId: "s", rowVersion: 3, lastVersion: 3, fromVersion: 1, events: whole(3), ...overrides });
const messageOf = (overrides: Partial<StreamReadFacts>): string | undefined => streamDamage(facts(overrides))?.message;

describe("checkStreamRead", () => {
  it("accepts a whole log, a missing stream, a range and a read past the end", () => {
    expect(() => checkStreamRead(facts({}))).not.toThrow();
    expect(() => checkStreamRead(facts({ rowVersion: undefined, lastVersion: undefined, events: [] }))).not.toThrow();
    expect(() => checkStreamRead(facts({ fromVersion: 2, events: events([2, 2], [3, 3]) }))).not.toThrow();
    expect(() => checkStreamRead(facts({ fromVersion: 9, events: [] }))).not.toThrow();
  });

  it("throws CORRUPTED_LOG naming the stream and the first damaged version", () => {
    let error: unknown;
    try {
      checkStreamRead(facts({ events: events([1, 1], [3, 3]) }));
    } catch (caught) {
      error = caught;
    }
    expect(isStoreError(error, "CORRUPTED_LOG")).toBe(true);
    expect(isStoreError(error) && error.details).toEqual({ streamId: "s", version: 2 });
    expect((error as Error).message).toBe("stream s is damaged: version 2 is missing (its stream row says version 3)");
  });

  it("names a few gaps and counts the rest", () => {
    const odd = events(...[1, 3, 5, 7, 9, 11, 13].map((version) => [version, version] as const));
    expect(messageOf({ rowVersion: 13, lastVersion: 13, events: odd })).toBe("stream s is damaged: versions 2, 4, 6, 8 and 2 more are missing (its stream row says version 13)");
  });

  it("names every problem it sees, in one message", () => {
    expect(messageOf({ rowVersion: 6, lastVersion: 8, events: events([1, 1], [2, 2], [2, 9], [2, 10], [4, 4], [5, 3], [6, 6], [7, 7], [8, 8]) })).toBe(
      "stream s is damaged: version 3 is missing (its stream row says version 6); its stream row says version 6 but it has events up to version 8 (the stream row is behind its events); version 2 is stored 3 times (positions 2, 9 and 10); versions 4 and 5 are out of order (positions 4, 3)",
    );
  });

  it("reports events in falling version order (only an in-memory store can hold them so)", () => {
    expect(messageOf({ events: events([1, 1], [3, 3], [2, 2]) })).toBe("stream s is damaged: version 2 is missing (its stream row says version 3); version 2 comes after version 3");
  });

  it("reports a stream row without events and events without a stream row", () => {
    expect(messageOf({ lastVersion: undefined, events: [] })).toBe("stream s is damaged: it has no events (its stream row says version 3)");
    expect(messageOf({ rowVersion: undefined })).toBe("stream s is damaged: it has events up to version 3 but no stream row");
    expect(messageOf({ rowVersion: undefined, fromVersion: 9, events: [] })).toBe("stream s is damaged: it has events up to version 3 but no stream row");
  });
});

describe("checkedRange", () => {
  it("fetches one event more on each side of the range asked for", () => {
    expect(checkedRange(1, undefined)).toMatchObject({ from: 1, count: undefined });
    expect(checkedRange(1, 3)).toMatchObject({ from: 1, count: 4 });
    expect(checkedRange(5, 3)).toMatchObject({ from: 4, count: 5 });
    expect(checkedRange(5, 0)).toMatchObject({ from: 4, count: 2 });
    const asked = (range: ReturnType<typeof checkedRange>, fetched: number): number[] => Array.from({ length: fetched }, (_, index) => index).filter((index) => range.isAsked(index));
    expect(asked(checkedRange(5, 3), 5)).toEqual([1, 2, 3]);
    expect(asked(checkedRange(5, undefined), 6)).toEqual([1, 2, 3, 4, 5]);
    expect(asked(checkedRange(1, 2), 3)).toEqual([0, 1]);
    expect(asked(checkedRange(5, 0), 2)).toEqual([]);
  });
});
