import { expect, it, type TestContext } from "vitest";
import type { EventStore, ReadStreamResult } from "../eventStore.js";
import { NO_STREAM } from "../expectedVersion.js";
import { isStoreError } from "../storeError.js";
import { expectStoreError, withStore, type EventStoreFactory } from "./storeFixture.js";
import { describeDamage, type StreamDamage, type StreamDamager, type StreamDamageKind } from "./streamDamage.js";

/** Runs a damage test; skipped for a store whose fixture cannot express every kind it needs. */
function withDamage(
  factory: EventStoreFactory,
  kinds: readonly StreamDamageKind[],
  body: (store: EventStore, damager: StreamDamager) => Promise<void>,
): (context: TestContext) => Promise<void> {
  return (context) =>
    withStore(factory, async (store, fixture) => {
      const damager = fixture.damage;
      const missing = kinds.filter((kind) => damager?.kinds.includes(kind) !== true);
      if (damager === undefined || missing.length > 0) {
        context.skip(`this store's fixture cannot damage a stream by ${missing.join(", ")}`);
        return;
      }
      await body(store, damager);
    });
}

const numbered = (from: number, count: number): { type: string; data: { n: number } }[] => Array.from({ length: count }, (_, index) => ({ type: `E${from + index}`, data: { n: from + index } }));

/** Stream `s-1`: versions 1-9 at positions 1-9, in three appends; then `ok`: versions 1-2 at positions 10-11. */
async function seed(store: EventStore): Promise<{ whole: ReadStreamResult; ok: ReadStreamResult }> {
  for (const from of [1, 4, 7]) await store.append("s-1", numbered(from, 3), { expectedVersion: from - 1 });
  await store.append("ok", numbered(1, 2), { expectedVersion: NO_STREAM });
  return { whole: await store.readStream("s-1"), ok: await store.readStream("ok") };
}

/** Expects a read to reject with CORRUPTED_LOG, exactly this message, naming the stream (and version). */
async function expectDamage(read: Promise<unknown>, message: string, details: { streamId: string; version?: number }): Promise<void> {
  const error = await expectStoreError(read, "CORRUPTED_LOG");
  expect(error.message).toBe(message);
  expect(isStoreError(error) && error.details).toMatchObject(details);
}

interface DamageCase {
  readonly damage: StreamDamage;
  readonly message: string;
  /** The first version where the damage shows. */
  readonly version: number;
}

const cases: readonly DamageCase[] = [
  { damage: { kind: "deleteEvents", versions: [5, 7] }, message: "stream s-1 is damaged: versions 5 and 7 are missing (its stream row says version 9)", version: 5 },
  { damage: { kind: "deleteEvents", versions: [1] }, message: "stream s-1 is damaged: version 1 is missing (its stream row says version 9)", version: 1 },
  { damage: { kind: "deleteEvents", versions: [9] }, message: "stream s-1 is damaged: version 9 is missing (its stream row says version 9, its last event is version 8)", version: 9 },
  { damage: { kind: "deleteEvents", versions: [2, 3, 4, 6] }, message: "stream s-1 is damaged: versions 2 to 4 and 6 are missing (its stream row says version 9)", version: 2 },
  { damage: { kind: "duplicateEvent", version: 4 }, message: "stream s-1 is damaged: version 4 is stored twice (positions 4 and 12)", version: 4 },
  { damage: { kind: "swapEvents", versions: [3, 5] }, message: "stream s-1 is damaged: versions 3 to 5 are out of order (positions 5, 4, 3)", version: 3 },
  { damage: { kind: "swapEvents", versions: [8, 9] }, message: "stream s-1 is damaged: versions 8 and 9 are out of order (positions 9, 8)", version: 8 },
  { damage: { kind: "truncateTail", keep: 6 }, message: "stream s-1 is damaged: versions 7 to 9 are missing (its stream row says version 9, its last event is version 6)", version: 7 },
  { damage: { kind: "truncateTail", keep: 0 }, message: "stream s-1 is damaged: it has no events (its stream row says version 9)", version: 1 },
  { damage: { kind: "moveStreamRow", by: 2 }, message: "stream s-1 is damaged: versions 10 and 11 are missing (its stream row says version 11, its last event is version 9)", version: 10 },
  { damage: { kind: "moveStreamRow", by: -2 }, message: "stream s-1 is damaged: its stream row says version 7 but it has events up to version 9 (the stream row is behind its events)", version: 8 },
  { damage: { kind: "deleteStreamRow" }, message: "stream s-1 is damaged: it has events up to version 9 but no stream row", version: 1 },
];

/**
 * Damaged logs (when the fixture can damage them): every read that sees the damage fails with
 * `CORRUPTED_LOG` naming the stream and what is wrong, a corrupted row stays `CORRUPTED_EVENT`,
 * undamaged streams read as before, reads write nothing, and appends never hide damage.
 */
export function damageConformance(factory: EventStoreFactory): void {
  for (const { damage, message, version } of cases) {
    it(`${describeDamage(damage)}: "${message}"`, withDamage(factory, [damage.kind], async (store, damager) => {
      const { ok } = await seed(store);
      await damager.apply("s-1", damage);
      const stored = await damager.storedRows("s-1");
      await expectDamage(store.readStream("s-1"), message, { streamId: "s-1", version });
      // One damaged stream fails the whole batch, with its own error; the others read as before.
      await expectDamage(store.readStreams(["ok", "s-1", "missing"]), message, { streamId: "s-1", version });
      expect(await store.readStream("ok")).toEqual(ok);
      expect(await store.readStreams(["ok", "missing"])).toEqual([ok, { streamId: "missing", exists: false, version: 0, final: false, events: [] }]);
      expect(await damager.storedRows("s-1")).toEqual(stored);
    }));
  }

  it("corruptEvent: a row that does not decode stays CORRUPTED_EVENT", withDamage(factory, ["corruptEvent"], async (store, damager) => {
    await seed(store);
    await damager.apply("s-1", { kind: "corruptEvent", version: 2 });
    await damager.apply("s-1", { kind: "corruptEvent", version: 6, column: "metadata" });
    const error = await expectStoreError(store.readStream("s-1"), "CORRUPTED_EVENT");
    expect(error.message).toBe("corrupted event s-1@2 (position 2): data is not valid JSON");
    expect((await expectStoreError(store.readStream("s-1", { fromVersion: 4 }), "CORRUPTED_EVENT")).message).toBe("corrupted event s-1@6 (position 6): metadata is not valid JSON");
    // Of the event on each side of a range, a read checks where it sits, never its JSON.
    expect((await store.readStream("s-1", { fromVersion: 3, maxCount: 2 })).events.map((event) => event.version)).toEqual([3, 4]);
    expect((await store.readStream("s-1", { fromVersion: 7, maxCount: 1 })).events.map((event) => event.version)).toEqual([7]);
    await expectStoreError(store.readStreams(["ok", "s-1"]), "CORRUPTED_EVENT");
  }));

  it("a tail cut together with its stream row looks like a shorter log: no check can tell", withDamage(factory, ["truncateTail"], async (store, damager) => {
    const { whole } = await seed(store);
    await damager.apply("s-1", { kind: "truncateTail", keep: 6, moveStreamRow: true });
    expect(await store.readStream("s-1")).toEqual({ ...whole, version: 6, events: whole.events.slice(0, 6) });
  }));

  it("a partial read checks its range, one event on each side of it and the stream row, not the rest of the log", withDamage(factory, ["deleteEvents", "moveStreamRow"], async (store, damager) => {
    const { whole } = await seed(store);
    await damager.apply("s-1", { kind: "deleteEvents", versions: [5] });
    expect(await store.readStream("s-1", { fromVersion: 7 })).toEqual({ ...whole, events: whole.events.slice(6) });
    expect(await store.readStream("s-1", { maxCount: 3 })).toEqual({ ...whole, events: whole.events.slice(0, 3) });
    expect(await store.readStream("s-1", { fromVersion: 2, maxCount: 2 })).toEqual({ ...whole, events: whole.events.slice(1, 3) });
    expect(await store.readStreams(["s-1"], { maxCount: 3 })).toEqual([{ ...whole, events: whole.events.slice(0, 3) }]);
    const gap = "stream s-1 is damaged: version 5 is missing (its stream row says version 9)";
    await expectDamage(store.readStream("s-1", { fromVersion: 4, maxCount: 3 }), gap, { streamId: "s-1", version: 5 });
    await expectDamage(store.readStream("s-1", { fromVersion: 5, maxCount: 1 }), gap, { streamId: "s-1", version: 5 });
    // The neighbours: version 5 is just before, or just after, the range asked for.
    await expectDamage(store.readStream("s-1", { fromVersion: 6 }), gap, { streamId: "s-1", version: 5 });
    await expectDamage(store.readStream("s-1", { fromVersion: 4, maxCount: 1 }), gap, { streamId: "s-1", version: 5 });
    await expectDamage(store.readStreams(["s-1"], { maxCount: 4 }), gap, { streamId: "s-1", version: 5 });
    // The stream row is part of every read: a range far from the damage still sees it.
    await damager.apply("s-1", { kind: "moveStreamRow", by: 1 });
    await expectStoreError(store.readStream("s-1", { maxCount: 1 }), "CORRUPTED_LOG");
  }));

  it("readStreams reports the first damaged stream in the order asked", withDamage(factory, ["deleteEvents", "moveStreamRow"], async (store, damager) => {
    await seed(store);
    await store.append("t", numbered(1, 3));
    await damager.apply("s-1", { kind: "deleteEvents", versions: [5] });
    await damager.apply("t", { kind: "moveStreamRow", by: -1 });
    await expectStoreError(store.readStreams(["ok", "t", "s-1"]), "CORRUPTED_LOG").then((error) => expect(isStoreError(error) && error.details.streamId).toBe("t"));
    await expectStoreError(store.readStreams(["s-1", "t", "ok"]), "CORRUPTED_LOG").then((error) => expect(isStoreError(error) && error.details.streamId).toBe("s-1"));
  }));

  it("an append into versions its stream row does not count fails alone with CORRUPTED_LOG and writes nothing", withDamage(factory, ["moveStreamRow"], async (store, damager) => {
    await seed(store);
    await damager.apply("s-1", { kind: "moveStreamRow", by: -2 });
    const stored = await damager.storedRows("s-1");
    // Issued together: on SQL stores they share one group-commit batch.
    const [damaged, healthy] = await Promise.allSettled([store.append("s-1", numbered(10, 1)), store.append("ok", numbered(3, 1), { expectedVersion: 2 })]);
    expect(damaged.status).toBe("rejected");
    const error = damaged.status === "rejected" ? (damaged.reason as Error) : undefined;
    expect(isStoreError(error, "CORRUPTED_LOG")).toBe(true);
    expect(error?.message).toBe("stream s-1 is damaged: its stream row says version 7 but it has events up to version 9 (the stream row is behind its events)");
    expect(healthy).toMatchObject({ status: "fulfilled", value: { nextExpectedVersion: 3 } });
    // A writer that read the stream before it was damaged holds version 9: a conflict, then a damaged read.
    await expectStoreError(store.append("s-1", numbered(10, 1), { expectedVersion: 9 }), "VERSION_CONFLICT");
    expect(await damager.storedRows("s-1")).toEqual(stored);
  }));

  it("an append that would recreate a stream over its orphaned events fails with CORRUPTED_LOG", withDamage(factory, ["deleteStreamRow"], async (store, damager) => {
    await seed(store);
    await damager.apply("s-1", { kind: "deleteStreamRow" });
    const stored = await damager.storedRows("s-1");
    const error = await expectStoreError(store.append("s-1", numbered(1, 1), { expectedVersion: NO_STREAM }), "CORRUPTED_LOG");
    expect(error.message).toBe("stream s-1 is damaged: it has events up to version 9 but no stream row");
    await expectStoreError(store.append("s-1", numbered(10, 1), { expectedVersion: 9 }), "VERSION_CONFLICT");
    expect(await damager.storedRows("s-1")).toEqual(stored);
  }));

  it("an append after a gap adds its events and leaves the damage visible", withDamage(factory, ["deleteEvents"], async (store, damager) => {
    await seed(store);
    await damager.apply("s-1", { kind: "deleteEvents", versions: [5] });
    const stored = await damager.storedRows("s-1");
    // The append checks the stream row only (the concurrency token), never the events before it.
    expect((await store.append("s-1", numbered(10, 1), { expectedVersion: 9 })).nextExpectedVersion).toBe(10);
    expect((await damager.storedRows("s-1")).slice(0, stored.length)).toEqual(stored);
    await expectDamage(store.readStream("s-1"), "stream s-1 is damaged: version 5 is missing (its stream row says version 10)", { streamId: "s-1", version: 5 });
  }));
}
