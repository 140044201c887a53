import fc from "fast-check";
import { expect, it } from "vitest";
import type { EventStore, ReadStreamResult } from "../eventStore.js";
import { ANY } from "../expectedVersion.js";
import { isStoreError } from "../storeError.js";
import { withStore, type ConformanceOptions, type EventStoreFactory } from "./storeFixture.js";
import { damageOfKind, describeDamage } from "./streamDamage.js";

/** A random log: streams of 1-4 appends of 1-4 events each, some marked final. */
const logs = fc.array(fc.record({ appends: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }), final: fc.boolean() }), { minLength: 1, maxLength: 3 });

/** Raw choices, turned into a damage that fits the target stream by {@link toDamage}. */
const damageChoices = fc.record({
  target: fc.nat(),
  pick: fc.nat(),
  a: fc.nat(),
  b: fc.nat(),
  by: fc.integer({ min: 1, max: 3 }),
  ahead: fc.boolean(),
  column: fc.constantFrom<"data" | "metadata">("data", "metadata"),
});

/** Partial reads to try on every stream. */
const ranges = fc.array(fc.record({ fromVersion: fc.integer({ min: 1, max: 18 }), maxCount: fc.option(fc.integer({ min: 0, max: 18 }), { nil: undefined }) }), { minLength: 1, maxLength: 5 });



/** What a read from `fromVersion` of at most `maxCount` events of the undamaged log returns. */
function sliceOf(whole: ReadStreamResult, fromVersion: number, maxCount: number | undefined): ReadStreamResult {
  const events = whole.events.filter((event) => event.version >= fromVersion);
  return { ...whole, events: maxCount === undefined ? events : events.slice(0, maxCount) };
}

/** Either the read returned exactly `expected`, or (for the damaged stream only) it reported the damage. */
async function expectExactOrDamage(read: Promise<unknown>, expected: unknown, damagedId: string | undefined): Promise<void> {
  const outcome = await read.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if ("value" in outcome) {
    expect(outcome.value).toEqual(expected);
    return;
  }
  expect(damagedId, `an undamaged read failed: ${String(outcome.error)}`).toBeDefined();
  expect(isStoreError(outcome.error, "CORRUPTED_LOG") || isStoreError(outcome.error, "CORRUPTED_EVENT"), String(outcome.error)).toBe(true);
  expect(isStoreError(outcome.error) && outcome.error.details.streamId).toBe(damagedId);
}

/** Expects a read of the damaged stream to report the damage. */
async function expectDamaged(read: Promise<unknown>, streamId: string): Promise<void> {
  const error = await read.then(
    (value) => new Error(`read a damaged stream without error: ${JSON.stringify(value)}`),
    (reason: unknown) => reason,
  );
  expect(isStoreError(error, "CORRUPTED_LOG") || isStoreError(error, "CORRUPTED_EVENT"), String(error)).toBe(true);
  expect(isStoreError(error) && error.details.streamId).toBe(streamId);
}

async function write(store: EventStore, log: readonly { readonly appends: readonly number[]; readonly final: boolean }[]): Promise<string[]> {
  const ids = log.map((_, index) => `d-${index}`);
  for (const [index, { appends, final }] of log.entries()) {
    let version = 0;
    for (const [at, count] of appends.entries()) {
      const events = Array.from({ length: count }, (_, k) => ({ type: `T${version + k + 1}`, data: { stream: index, version: version + k + 1 }, metadata: { at } }));
      await store.append(ids[index] ?? "", events, { expectedVersion: version, markFinal: final && at === appends.length - 1 });
      version += count;
    }
  }
  return ids;
}

/**
 * The damage property, over random logs and random damage of every kind the fixture can express:
 * every read (`readStream` whole and partial, `readStreams` whole and limited) returns exactly the
 * undamaged log or fails with `CORRUPTED_LOG`/`CORRUPTED_EVENT` naming the damaged stream (a whole
 * read of it always fails); reads write nothing; an append to the damaged stream either fails
 * (`VERSION_CONFLICT`, `CORRUPTED_LOG`, `STREAM_FINAL`) or only adds rows, and the damage stays
 * visible; appends to undamaged streams in the same moment succeed.
 */
export function damagePropertyConformance(factory: EventStoreFactory, options: ConformanceOptions = {}): void {
  it("random damage: every read is the exact log or reports the damage; nothing hides it", async () => {
    const probe = await factory();
    const kinds = probe.damage?.kinds ?? [];
    await probe.store.close();
    await probe.cleanup();
    if (kinds.length === 0) return;
    await fc.assert(
      fc.asyncProperty(logs, damageChoices, ranges, async (log, choices, reads) =>
        withStore(factory, async (store, fixture) => {
          const damager = fixture.damage;
          if (damager === undefined) throw new Error("the fixture lost its damager");
          const ids = await write(store, log);
          const whole = await Promise.all(ids.map((id) => store.readStream(id)));
          const target = choices.target % ids.length;
          const damagedId = ids[target] ?? "";
          const damage = damageOfKind(kinds[choices.pick % kinds.length] ?? "deleteEvents", whole[target]?.version ?? 1, choices);
          await damager.apply(damagedId, damage);
          const stored = await Promise.all(ids.map((id) => damager.storedRows(id)));
          const note = `${describeDamage(damage)} on ${damagedId}`;

          for (const [index, id] of ids.entries()) {
            const original = whole[index];
            if (original === undefined) continue;
            const damaged = id === damagedId ? id : undefined;
            if (damaged === undefined) expect(await store.readStream(id), note).toEqual(original);
            else await expectDamaged(store.readStream(id), id);
            for (const { fromVersion, maxCount } of reads) await expectExactOrDamage(store.readStream(id, { fromVersion, maxCount }), sliceOf(original, fromVersion, maxCount), damaged);
          }
          await expectDamaged(store.readStreams([...ids, "never-written"]), damagedId);
          const others = ids.filter((id) => id !== damagedId);
          expect(await store.readStreams(others), note).toEqual(whole.filter((read) => read.streamId !== damagedId));
          const maxCount = reads[0]?.maxCount;
          await expectExactOrDamage(store.readStreams(ids, { maxCount }), whole.map((read) => sliceOf(read, 1, maxCount)), damagedId);
          expect(await Promise.all(ids.map((id) => damager.storedRows(id))), `reads wrote nothing (${note})`).toEqual(stored);

          // Appends: a writer that read before the damage, one that does not check, and the
          // healthy streams' writers, all at once (one group-commit batch on SQL stores).
          const next = [{ type: "After", data: {} }];
          const healthy = whole.filter((read) => read.streamId !== damagedId && !read.final);
          const outcomes = await Promise.allSettled([
            store.append(damagedId, next, { expectedVersion: whole[target]?.version ?? 0 }),
            store.append(damagedId, next, { expectedVersion: ANY }),
            ...healthy.map((read) => store.append(read.streamId, next, { expectedVersion: read.version })),
          ]);
          for (const outcome of outcomes.slice(0, 2)) {
            if (outcome.status === "fulfilled") continue;
            const refused = ["VERSION_CONFLICT", "CORRUPTED_LOG", "STREAM_FINAL"].some((code) => isStoreError(outcome.reason, code as "VERSION_CONFLICT"));
            expect(refused, `${note}: ${String(outcome.reason)}`).toBe(true);
          }
          for (const outcome of outcomes.slice(2)) expect(outcome.status, `${note}: a healthy stream's append`).toBe("fulfilled");
          const after = await damager.storedRows(damagedId);
          expect(after.slice(0, stored[target]?.length), `no stored row changed (${note})`).toEqual(stored[target]);
          await expectDamaged(store.readStream(damagedId), damagedId);
        }),
      ),
      { numRuns: (options.propertyRuns ?? 15) * 2 },
    );
    // Every run makes a fresh store and a few dozen reads: on a loaded machine more than the default.
  }, 180_000);
}
