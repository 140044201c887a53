import fc from "fast-check";
import { describe, expect, it, type TestContext } from "vitest";
import { START, compareCheckpoints } from "../checkpoint.js";
import type { Coordination } from "../coordination.js";
import type { EventStore, JsonValue, NewEvent, StoredEvent } from "../eventStore.js";
import { ANY, NO_STREAM, STREAM_EXISTS, type ExpectedVersion } from "../expectedVersion.js";
import { isStoreError } from "../storeError.js";
import { damageConformance } from "./damageConformance.js";
import { damagePropertyConformance } from "./damagePropertyConformance.js";
import { expectStoreError, withStore, type ConformanceOptions, type EventStoreFactory } from "./storeFixture.js";

/**
 * Registers the whole event store conformance suite. Every backend runs it in a few lines:
 *
 * @example
 * ```ts
 * import { describeEventStoreConformance } from "@cloudsession/store/testing";
 * import { createInMemoryStore } from "@cloudsession/store";
 *
 * describeEventStoreConformance("in-memory", async () => ({ store: createInMemoryStore(), cleanup: async () => {} }));
 * ```
 */
export function describeEventStoreConformance(name: string, factory: EventStoreFactory, options: ConformanceOptions = {}): void {
  describe(`EventStore conformance: ${name}`, () => {
    describe("append and readStream", () => appendConformance(factory));
    describe("expected versions", () => expectedVersionConformance(factory));
    describe("concurrency and batches", () => concurrencyConformance(factory));
    describe("readStreams", () => readStreamsConformance(factory));
    describe("readAll", () => readAllConformance(factory));
    describe("listStreams", () => listStreamsConformance(factory));
    describe("subscribe", () => subscribeConformance(factory));
    describe("close", () => closeConformance(factory));
    describe("corruption", () => corruptionConformance(factory));
    describe("damaged logs", () => damageConformance(factory));
    describe("damaged logs: properties", () => damagePropertyConformance(factory, options));
    describe("properties", () => propertyConformance(factory, options));
    describe("coordination", () => coordinationConformance(factory));
  });
}

const event = (type: string, data: JsonValue = {}, metadata?: NewEvent["metadata"]): NewEvent => (metadata === undefined ? { type, data } : { type, data, metadata });

/**
 * Reads the whole global order. On a SQL store `readAll` holds back events while any older
 * transaction in the cluster is still open (that is what makes it never skip), so a test sharing the
 * server with others polls until every appended event (the sum of stream versions) is visible.
 */
async function readEverything(store: EventStore, pageSize = 1000): Promise<StoredEvent[]> {
  const streams = await store.listStreams({ status: "all" });
  const total = streams.reduce((sum, stream) => sum + stream.version, 0);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const events: StoredEvent[] = [];
    let after = START;
    for (;;) {
      const page = await store.readAll({ after, limit: pageSize });
      events.push(...page.events);
      after = page.checkpoint;
      if (page.events.length === 0) break;
    }
    if (events.length >= total || Date.now() > deadline) return events;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until every appended event is visible to `readAll` (see {@link readEverything}). */
async function settleVisibility(store: EventStore): Promise<void> {
  await readEverything(store);
}

/** Appending, reading one stream, argument validation, JSON round trip, large batches. */
export function appendConformance(factory: EventStoreFactory): void {
  it("appends to a new stream and reads it back", () =>
    withStore(factory, async (store) => {
      const result = await store.append("s-1", [event("Created", { n: 1 }), event("Renamed", { name: "x" }, { actor: "me" })]);
      expect(result.streamId).toBe("s-1");
      expect(result.nextExpectedVersion).toBe(2);
      expect(result.createdStream).toBe(true);
      expect(result.events.map((e) => e.version)).toEqual([1, 2]);
      const read = await store.readStream("s-1");
      expect(read).toMatchObject({ streamId: "s-1", exists: true, version: 2, final: false });
      expect(read.events.map(({ streamId, version, type, data, metadata }) => ({ streamId, version, type, data, metadata }))).toEqual([
        { streamId: "s-1", version: 1, type: "Created", data: { n: 1 }, metadata: {} },
        { streamId: "s-1", version: 2, type: "Renamed", data: { name: "x" }, metadata: { actor: "me" } },
      ]);
      expect(read.events).toEqual(result.events);
      for (const stored of read.events) {
        expect(Number.isSafeInteger(stored.position) && stored.position > 0).toBe(true);
        expect(Number.isSafeInteger(stored.recordedAt)).toBe(true);
      }
      const second = await store.append("s-1", [event("Closed")]);
      expect(second).toMatchObject({ nextExpectedVersion: 3, createdStream: false });
    }));

  it("reads a missing stream as empty, not an error", () =>
    withStore(factory, async (store) => {
      expect(await store.readStream("nope")).toEqual({ streamId: "nope", exists: false, version: 0, final: false, events: [] });
    }));

  it("reads a range with fromVersion and maxCount, reporting the stream's current version", () =>
    withStore(factory, async (store) => {
      await store.append("s", [event("A"), event("B"), event("C"), event("D")]);
      const middle = await store.readStream("s", { fromVersion: 2, maxCount: 2 });
      expect(middle.events.map((e) => e.type)).toEqual(["B", "C"]);
      expect(middle.version).toBe(4);
      const past = await store.readStream("s", { fromVersion: 9 });
      expect(past).toMatchObject({ exists: true, version: 4, events: [] });
    }));

  it("rejects invalid arguments with INVALID_ARGUMENT and writes nothing", () =>
    withStore(factory, async (store) => {
      await expectStoreError(store.append("s", []), "INVALID_ARGUMENT");
      await expectStoreError(store.append("", [event("A")]), "INVALID_ARGUMENT");
      await expectStoreError(store.append("s", [event("")]), "INVALID_ARGUMENT");
      await expectStoreError(store.append("s", [event("A")], { expectedVersion: -1 }), "INVALID_ARGUMENT");
      await expectStoreError(store.append("s", [event("A")], { expectedVersion: 1.5 }), "INVALID_ARGUMENT");
      await expectStoreError(store.append("s", [event("A")], { expectedVersion: "later" as ExpectedVersion }), "INVALID_ARGUMENT");
      await expectStoreError(store.append("s", [{ type: "A", data: { big: 1n } as unknown as JsonValue }]), "INVALID_ARGUMENT");
      await expectStoreError(store.append("s", [{ type: "A", data: {}, metadata: [] as unknown as Record<string, JsonValue> }]), "INVALID_ARGUMENT");
      await expectStoreError(store.append("nul\u0000id", [event("A")]), "INVALID_ARGUMENT");
      await expectStoreError(store.append("lone\ud800", [event("A")]), "INVALID_ARGUMENT");
      await expectStoreError(store.append("s", [event("Type\u0000")]), "INVALID_ARGUMENT");
      await expectStoreError(store.readStream("s", { fromVersion: 0 }), "INVALID_ARGUMENT");
      await expectStoreError(store.readAll({ limit: 0 }), "INVALID_ARGUMENT");
      expect((await store.readStream("s")).exists).toBe(false);
      expect((await store.readAll()).events).toEqual([]);
    }));

  it("round-trips unicode and awkward JSON exactly", () =>
    withStore(factory, async (store) => {
      const data: JsonValue = {
        emoji: "🚀 déjà vu — 漢字 עברית",
        nul: "a\u0000b",
        loneSurrogate: "\ud800",
        quotes: `"'\\{}[],`,
        newline: "line1\nline2\r\n\t",
        numbers: [0, -1, 1.5, 1e300, -1e-300, Number.MAX_SAFE_INTEGER],
        nested: { deep: [[[{ x: null }]]], empty: {}, emptyArray: [] },
        bools: [true, false],
        "key with spaces and ünïcode 🔑": "",
      };
      const strings: JsonValue[] = ["just a string", 42, null, true, [1, "two"]];
      await store.append("unicode-🚀", [event("Weird", data, { "ü": "✓" }), ...strings.map((value) => event("Scalar", value))]);
      const read = await store.readStream("unicode-🚀");
      expect(read.events.map((e) => e.data)).toEqual([data, ...strings]);
      expect(read.events[0]?.metadata).toEqual({ "ü": "✓" });
      expect((await store.listStreams()).map((s) => s.streamId)).toEqual(["unicode-🚀"]);
    }));

  it("appends a large batch atomically", () =>
    withStore(factory, async (store) => {
      const events = Array.from({ length: 3000 }, (_, index) => event("Tick", { index, padding: "x".repeat(100) }));
      const result = await store.append("big", events);
      expect(result.nextExpectedVersion).toBe(3000);
      const read = await store.readStream("big");
      expect(read.events).toHaveLength(3000);
      expect(read.events.map((e) => (e.data as { index: number }).index)).toEqual(events.map((_, index) => index));
      expect((await readEverything(store, 700)).map((e) => e.version)).toEqual(events.map((_, index) => index + 1));
    }));
}

/** Each expected-version constant, and numbers. */
export function expectedVersionConformance(factory: EventStoreFactory): void {
  it("NO_STREAM accepts only a stream that does not exist", () =>
    withStore(factory, async (store) => {
      await store.append("s", [event("A")], { expectedVersion: NO_STREAM });
      await expectStoreError(store.append("s", [event("B")], { expectedVersion: NO_STREAM }), "VERSION_CONFLICT");
      expect((await store.readStream("s")).version).toBe(1);
    }));

  it("STREAM_EXISTS accepts only a stream that exists", () =>
    withStore(factory, async (store) => {
      await expectStoreError(store.append("s", [event("A")], { expectedVersion: STREAM_EXISTS }), "VERSION_CONFLICT");
      expect((await store.readStream("s")).exists).toBe(false);
      await store.append("s", [event("A")]);
      await store.append("s", [event("B")], { expectedVersion: STREAM_EXISTS });
      expect((await store.readStream("s")).version).toBe(2);
    }));

  it("ANY accepts any state", () =>
    withStore(factory, async (store) => {
      await store.append("s", [event("A")], { expectedVersion: ANY });
      await store.append("s", [event("B")], { expectedVersion: ANY });
      await store.append("s", [event("C")]);
      expect((await store.readStream("s")).version).toBe(3);
    }));

  it("a number must equal the current version; the conflict reports both", () =>
    withStore(factory, async (store) => {
      await store.append("s", [event("A")], { expectedVersion: 0 });
      await store.append("s", [event("B"), event("C")], { expectedVersion: 1 });
      const error = await store.append("s", [event("D")], { expectedVersion: 1 }).catch((reason: unknown) => reason);
      expect(isStoreError(error, "VERSION_CONFLICT")).toBe(true);
      expect(isStoreError(error) && error.details).toMatchObject({ streamId: "s", expectedVersion: 1, actualVersion: 3 });
      await expectStoreError(store.append("t", [event("A")], { expectedVersion: 1 }), "VERSION_CONFLICT");
      await store.append("s", [event("D")], { expectedVersion: 3 });
      expect((await store.readStream("s")).events.map((e) => e.type)).toEqual(["A", "B", "C", "D"]);
    }));
}

/** Racing appends on one stream, and group-commit batches with one bad member. */
export function concurrencyConformance(factory: EventStoreFactory): void {
  it("exactly one of several racing appends with the same expected version wins", () =>
    withStore(factory, async (store) => {
      await store.append("s", [event("Created")]);
      const racers = Array.from({ length: 8 }, (_, index) => store.append("s", [event("Raced", { index }), event("Raced2", { index })], { expectedVersion: 1 }));
      const results = await Promise.allSettled(racers);
      const winners = results.filter((result) => result.status === "fulfilled");
      expect(winners).toHaveLength(1);
      for (const result of results) if (result.status === "rejected") expect(isStoreError(result.reason, "VERSION_CONFLICT")).toBe(true);
      const read = await store.readStream("s");
      expect(read.version).toBe(3);
      expect(read.events.map((e) => e.version)).toEqual([1, 2, 3]);
    }));

  it("exactly one of two racing NO_STREAM creations wins", () =>
    withStore(factory, async (store) => {
      const results = await Promise.allSettled([
        store.append("new", [event("A")], { expectedVersion: NO_STREAM }),
        store.append("new", [event("B")], { expectedVersion: NO_STREAM }),
      ]);
      expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
      expect((await store.readStream("new")).version).toBe(1);
    }));

  it("a conflicting append in a concurrent batch rejects alone", () =>
    withStore(factory, async (store) => {
      await store.append("victim", [event("A")]);
      const good = Array.from({ length: 30 }, (_, index) => store.append(`s-${index}`, [event("A", { index })], { expectedVersion: NO_STREAM }));
      const bad = store.append("victim", [event("B")], { expectedVersion: 5 });
      const final = store.append("s-final", [event("A")], { markFinal: true });
      const results = await Promise.allSettled([...good, bad, final]);
      expect(results.slice(0, 30).every((result) => result.status === "fulfilled")).toBe(true);
      expect(results[30]?.status).toBe("rejected");
      expect(results[31]?.status).toBe("fulfilled");
      const all = await readEverything(store);
      expect(all).toHaveLength(32);
      expect((await store.readStream("victim")).version).toBe(1);
    }));

  it("same-stream appends in one burst apply in call order when each expects the previous version", () =>
    withStore(factory, async (store) => {
      const appends = Array.from({ length: 10 }, (_, index) => store.append("chain", [event("Step", { index })], { expectedVersion: index }));
      const results = await Promise.all(appends);
      expect(results.map((result) => result.nextExpectedVersion)).toEqual(Array.from({ length: 10 }, (_, index) => index + 1));
    }));
}

/** readStreams: many streams at once, each exactly what readStream returns, in the order asked. */
export function readStreamsConformance(factory: EventStoreFactory): void {
  it("answers existing, final, missing and repeated ids in the order given, like readStream", () =>
    withStore(factory, async (store) => {
      await store.append("a", [event("A1", { n: 1 }), event("A2", { n: 2 }, { actor: "me" })]);
      await store.append("b", [event("B1")]);
      await store.append("done", [event("D1"), event("D2")], { markFinal: true, streamMetadata: { title: "x" } });
      await store.append("a", [event("A3")]);
      const ids = ["done", "missing", "a", "b", "a", "missing", "unicode-🚀"];
      const batch = await store.readStreams(ids);
      expect(batch.map((read) => read.streamId)).toEqual(ids);
      expect(batch).toEqual(await Promise.all(ids.map((id) => store.readStream(id))));
      expect(batch[0]).toMatchObject({ exists: true, version: 2, final: true });
      expect(batch[1]).toEqual({ streamId: "missing", exists: false, version: 0, final: false, events: [] });
      expect(batch[2]?.events.map((e) => [e.version, e.type])).toEqual([[1, "A1"], [2, "A2"], [3, "A3"]]);
      expect(await store.readStreams([])).toEqual([]);
    }));

  it("limits each stream with maxCount like readStream", () =>
    withStore(factory, async (store) => {
      await store.append("s", [event("A"), event("B"), event("C")]);
      await store.append("t", [event("X")]);
      const ids = ["s", "t", "none"];
      for (const maxCount of [0, 1, 2, 10]) {
        expect(await store.readStreams(ids, { maxCount })).toEqual(await Promise.all(ids.map((id) => store.readStream(id, { maxCount }))));
      }
      expect((await store.readStreams(["s"], { maxCount: 2 }))[0]).toMatchObject({ version: 3, events: [{ type: "A" }, { type: "B" }] });
    }));

  it("reads more ids than one chunk holds (1,200 with repeats) in order", () =>
    withStore(factory, async (store) => {
      const existing = Array.from({ length: 700 }, (_, index) => `big-${index}`);
      await Promise.all(existing.map((id, index) => store.append(id, Array.from({ length: 1 + (index % 3) }, (_, n) => event(`E${n}`, { index })), { markFinal: index % 7 === 0 })));
      // Interleaves existing, missing and repeated ids in an order unlike any the store keeps.
      const ids = Array.from({ length: 1200 }, (_, index) => (index % 5 === 4 ? `gone-${index}` : `big-${(index * 389) % 700}`));
      const batch = await store.readStreams(ids);
      expect(batch).toHaveLength(1200);
      expect(batch.map((read) => read.streamId)).toEqual(ids);
      const single: unknown[] = [];
      for (const id of ids) single.push(await store.readStream(id));
      expect(batch).toEqual(single);
      expect(batch.filter((read) => read.exists)).toHaveLength(960);
    }));

  it("rejects bad arguments with INVALID_ARGUMENT", () =>
    withStore(factory, async (store) => {
      await store.append("s", [event("A")]);
      await expectStoreError(store.readStreams("s" as unknown as string[]), "INVALID_ARGUMENT");
      await expectStoreError(store.readStreams([1 as unknown as string]), "INVALID_ARGUMENT");
      await expectStoreError(store.readStreams(["s", null as unknown as string]), "INVALID_ARGUMENT");
      await expectStoreError(store.readStreams(["nul\u0000id"]), "INVALID_ARGUMENT");
      await expectStoreError(store.readStreams(["lone\ud800"]), "INVALID_ARGUMENT");
      await expectStoreError(store.readStreams(["s"], { maxCount: -1 }), "INVALID_ARGUMENT");
      await expectStoreError(store.readStreams(["s"], { maxCount: 1.5 }), "INVALID_ARGUMENT");
      // Ids append would refuse are simply absent, as with readStream.
      expect(await store.readStreams([""])).toEqual([await store.readStream("")]);
    }));
}

/** The global order: completeness, checkpoints, paging. */
export function readAllConformance(factory: EventStoreFactory): void {
  it("returns every event once in commit order with increasing checkpoints", () =>
    withStore(factory, async (store) => {
      const appended: StoredEvent[] = [];
      for (let index = 0; index < 12; index++) {
        const result = await store.append(`s-${index % 3}`, [event("E", { index }), event("F", { index })]);
        appended.push(...result.events);
      }
      const all = await readEverything(store, 5);
      expect(all).toEqual(appended);
      all.slice(1).forEach((stored, index) => expect(compareCheckpoints(all[index]?.checkpoint ?? START, stored.checkpoint)).toBeLessThan(0));
      expect(new Set(all.map((e) => e.position)).size).toBe(all.length);
    }));

  it("pages by checkpoint and reports hasMore", () =>
    withStore(factory, async (store) => {
      await store.append("s", Array.from({ length: 5 }, () => event("E")));
      await settleVisibility(store);
      const first = await store.readAll({ limit: 3 });
      expect(first.events).toHaveLength(3);
      expect(first.hasMore).toBe(true);
      expect(first.checkpoint).toBe(first.events[2]?.checkpoint);
      const second = await store.readAll({ after: first.checkpoint, limit: 3 });
      expect(second.events.map((e) => e.version)).toEqual([4, 5]);
      expect(second.hasMore).toBe(false);
      const empty = await store.readAll({ after: second.checkpoint });
      expect(empty).toEqual({ events: [], checkpoint: second.checkpoint, hasMore: false });
      await store.append("s", [event("Later")]);
      await settleVisibility(store);
      expect((await store.readAll({ after: second.checkpoint })).events.map((e) => e.type)).toEqual(["Later"]);
    }));

  it("rejects a malformed checkpoint", () =>
    withStore(factory, async (store) => {
      await expectStoreError(store.readAll({ after: "yesterday" as typeof START }), "INVALID_ARGUMENT");
    }));
}

/** Stream summaries and final marking. */
export function listStreamsConformance(factory: EventStoreFactory): void {
  it("lists open, final and all streams with summaries", () =>
    withStore(factory, async (store) => {
      await store.append("a", [event("SessionCreated")], { streamMetadata: { title: "first" } });
      await store.append("b", [event("SessionCreated")]);
      await store.append("a", [event("Done")], { markFinal: true, streamMetadata: { outcome: "ok" } });
      await store.append("c", [event("Other"), event("More")]);
      expect((await store.listStreams()).map((s) => s.streamId)).toEqual(["b", "c"]);
      expect((await store.listStreams({ status: "open" })).map((s) => s.streamId)).toEqual(["b", "c"]);
      expect((await store.listStreams({ status: "final" })).map((s) => s.streamId)).toEqual(["a"]);
      const all = await store.listStreams({ status: "all" });
      expect(all.map((s) => s.streamId)).toEqual(["a", "b", "c"]);
      expect(await store.listStreams({ status: "all", limit: 2 })).toHaveLength(2);
      const [a, , c] = all;
      expect(a).toMatchObject({ streamId: "a", version: 2, final: true, firstEventType: "SessionCreated", metadata: { title: "first", outcome: "ok" } });
      expect(c).toMatchObject({ streamId: "c", version: 2, final: false, firstEventType: "Other", metadata: {} });
      expect(a?.updatedAt).toBeGreaterThanOrEqual(a?.createdAt ?? Number.POSITIVE_INFINITY);
      expect((await store.readStream("a")).final).toBe(true);
    }));

  it("a final stream rejects further appends with STREAM_FINAL", () =>
    withStore(factory, async (store) => {
      await store.append("s", [event("Done")], { markFinal: true });
      await expectStoreError(store.append("s", [event("Zombie")]), "STREAM_FINAL");
      await expectStoreError(store.append("s", [event("Zombie")], { expectedVersion: 1 }), "STREAM_FINAL");
      expect((await store.readStream("s")).version).toBe(1);
    }));
}

function collector(): { events: StoredEvent[]; until: (count: number, timeoutMs?: number) => Promise<void>; handler: (event: StoredEvent) => void } {
  const events: StoredEvent[] = [];
  let waiting: { count: number; resolve: () => void } | undefined;
  return {
    events,
    handler(stored) {
      events.push(stored);
      if (waiting !== undefined && events.length >= waiting.count) waiting.resolve();
    },
    until(count, timeoutMs = 10_000) {
      if (events.length >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out with ${events.length}/${count} events`)), timeoutMs);
        waiting = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
  };
}

/** Delivery order, exactly-once, resume, unsubscribe, handler failure. */
export function subscribeConformance(factory: EventStoreFactory): void {
  it("delivers past and new events in global order exactly once", () =>
    withStore(factory, async (store) => {
      await store.append("a", [event("A1"), event("A2")]);
      const seen = collector();
      const subscription = store.subscribe(seen.handler, { pollIntervalMs: 50 });
      await seen.until(2);
      await Promise.all(Array.from({ length: 20 }, (_, index) => store.append(`s-${index % 4}`, [event("N", { index })])));
      await store.append("a", [event("A3")]);
      await seen.until(23);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seen.events).toEqual(await readEverything(store));
      await subscription.close();
      await store.append("a", [event("AfterClose")]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seen.events).toHaveLength(23);
      await subscription.done;
    }));

  it("resumes after a checkpoint", () =>
    withStore(factory, async (store) => {
      const first = await store.append("s", [event("Old1"), event("Old2")]);
      await store.append("s", [event("New1")]);
      const seen = collector();
      const subscription = store.subscribe(seen.handler, { after: first.events[1]?.checkpoint ?? START, pollIntervalMs: 50 });
      await seen.until(1);
      await store.append("s", [event("New2")]);
      await seen.until(2);
      expect(seen.events.map((e) => e.type)).toEqual(["New1", "New2"]);
      await subscription.close();
    }));

  it("waits for a slow handler and keeps order under concurrent appends", () =>
    withStore(factory, async (store) => {
      const seen: string[] = [];
      let active = 0;
      const subscription = store.subscribe(
        async (stored) => {
          active += 1;
          expect(active).toBe(1);
          await new Promise((resolve) => setTimeout(resolve, 1));
          seen.push(stored.checkpoint);
          active -= 1;
        },
        { pollIntervalMs: 20, batchSize: 7 },
      );
      for (let round = 0; round < 5; round++) {
        await Promise.all(Array.from({ length: 10 }, (_, index) => store.append(`s-${index}`, [event("E", { round })])));
      }
      const expected = (await readEverything(store)).map((e) => e.checkpoint);
      const deadline = Date.now() + 10_000;
      while (seen.length < expected.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen).toEqual(expected);
      await subscription.close();
    }));

  it("ends with a rejected done when the handler throws", () =>
    withStore(factory, async (store) => {
      await store.append("s", [event("A"), event("B")]);
      const calls: string[] = [];
      const subscription = store.subscribe((stored) => {
        calls.push(stored.type);
        throw new Error("handler broke");
      });
      await expect(subscription.done).rejects.toThrow("handler broke");
      expect(calls).toEqual(["A"]);
      await subscription.close();
    }));

  it("store close ends subscriptions", () =>
    withStore(factory, async (store) => {
      const subscription = store.subscribe(() => undefined, { pollIntervalMs: 20 });
      await store.close();
      await expect(subscription.done).resolves.toBeUndefined();
    }));
}

/** close(): idempotent, finishes accepted work, refuses new work. */
export function closeConformance(factory: EventStoreFactory): void {
  it("finishes appends issued before close and refuses calls after it", () =>
    withStore(factory, async (store) => {
      const pending = Array.from({ length: 5 }, (_, index) => store.append(`s-${index}`, [event("A")]));
      const closing = store.close();
      await expect(Promise.all(pending)).resolves.toHaveLength(5);
      await closing;
      await store.close();
      await expectStoreError(store.append("s", [event("A")]), "STORE_CLOSED");
      await expectStoreError(store.readStream("s"), "STORE_CLOSED");
      await expectStoreError(store.readStreams(["s"]), "STORE_CLOSED");
      await expectStoreError(store.readAll(), "STORE_CLOSED");
      await expectStoreError(store.listStreams(), "STORE_CLOSED");
      expect(() => store.subscribe(() => undefined)).toThrow(expect.objectContaining({ code: "STORE_CLOSED" }) as Error);
    }));
}

/** Corrupted rows become CORRUPTED_EVENT naming the stream and version (when the fixture can corrupt). */
export function corruptionConformance(factory: EventStoreFactory): void {
  it("reports a corrupted row as CORRUPTED_EVENT naming stream and version", () =>
    withStore(factory, async (store, fixture) => {
      if (fixture.corruptEvent === undefined) return;
      await store.append("ok", [event("A")]);
      await store.append("broken", [event("A"), event("B")]);
      await fixture.corruptEvent("broken", 2);
      for (const attempt of [() => store.readStream("broken"), () => store.readStreams(["ok", "broken"]), () => store.readAll()]) {
        const error = await attempt().catch((reason: unknown) => reason);
        expect(isStoreError(error, "CORRUPTED_EVENT")).toBe(true);
        expect(isStoreError(error) && error.details).toMatchObject({ streamId: "broken", version: 2 });
        expect((error as Error).message).toContain("broken");
      }
      expect((await store.readStream("ok")).events).toHaveLength(1);
      const subscription = store.subscribe(() => undefined);
      await expect(subscription.done).rejects.toMatchObject({ code: "CORRUPTED_EVENT" });
    }));
}

interface PlannedAppend {
  readonly stream: number;
  readonly count: number;
  readonly expect: "any" | "exact" | "stale";
}

const plannedAppend = fc.record({
  stream: fc.integer({ min: 0, max: 4 }),
  count: fc.integer({ min: 1, max: 4 }),
  expect: fc.constantFrom<PlannedAppend["expect"]>("any", "exact", "stale"),
});

/** fast-check properties over random append plans. */
export function propertyConformance(factory: EventStoreFactory, options: ConformanceOptions = {}): void {
  const numRuns = options.propertyRuns ?? 15;

  it("sequential appends: readAll equals the appends in order; per-stream versions are contiguous", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(plannedAppend, { minLength: 1, maxLength: 25 }), async (plan) =>
        withStore(factory, async (store) => {
          const versions = new Map<number, number>();
          const accepted: StoredEvent[] = [];
          for (const [index, step] of plan.entries()) {
            const current = versions.get(step.stream) ?? 0;
            const expectedVersion = step.expect === "any" ? ANY : step.expect === "exact" ? current : current + 1;
            const events = Array.from({ length: step.count }, (_, k) => event("P", { index, k }));
            const attempt = store.append(`p-${step.stream}`, events, { expectedVersion });
            if (step.expect === "stale") {
              await expectStoreError(attempt, "VERSION_CONFLICT");
              continue;
            }
            const result = await attempt;
            versions.set(step.stream, result.nextExpectedVersion);
            accepted.push(...result.events);
          }
          const all = await readEverything(store, 7);
          expect(all).toEqual(accepted);
          for (const [stream, version] of versions) {
            const read = await store.readStream(`p-${stream}`);
            expect(read.events.map((e) => e.version)).toEqual(Array.from({ length: version }, (_, k) => k + 1));
            expect(read.events).toEqual(all.filter((e) => e.streamId === `p-${stream}`));
          }
        }),
      ),
      { numRuns },
    );
  });

  it("concurrent appends: each append is atomic and contiguous, conflicts write nothing, nothing is lost", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(plannedAppend, { minLength: 1, maxLength: 30 }), async (plan) =>
        withStore(factory, async (store) => {
          // Everyone expects the version the stream had before the burst: per stream at most one
          // "exact" wins, "any" always wins, "stale" never does.
          const results = await Promise.allSettled(
            plan.map((step, index) =>
              store.append(
                `c-${step.stream}`,
                Array.from({ length: step.count }, (_, k) => event("C", { index, k })),
                { expectedVersion: step.expect === "any" ? ANY : step.expect === "exact" ? 0 : 99 },
              ),
            ),
          );
          const all = await readEverything(store);
          const won = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
          expect(all).toHaveLength(won.reduce((sum, result) => sum + result.events.length, 0));
          for (const [index, step] of plan.entries()) {
            const result = results[index];
            if (result === undefined) throw new Error("missing result");
            if (step.expect === "stale") expect(result.status).toBe("rejected");
            if (step.expect === "any") expect(result.status).toBe("fulfilled");
            if (result.status === "rejected") expect(isStoreError(result.reason, "VERSION_CONFLICT")).toBe(true);
            else {
              const versions = result.value.events.map((e) => e.version);
              expect(versions).toEqual(Array.from({ length: step.count }, (_, k) => (versions[0] ?? 0) + k));
              expect(all.filter((e) => (e.data as { index: number }).index === index)).toEqual(result.value.events);
            }
          }
          for (let stream = 0; stream < 5; stream++) {
            const read = await store.readStream(`c-${stream}`);
            expect(read.events.map((e) => e.version)).toEqual(Array.from({ length: read.version }, (_, k) => k + 1));
            const exactWinners = plan.filter((step, index) => step.stream === stream && step.expect === "exact" && results[index]?.status === "fulfilled");
            expect(exactWinners.length).toBeLessThanOrEqual(1);
          }
        }),
      ),
      { numRuns },
    );
  });

  it("any JSON value round-trips", async () => {
    await withStore(factory, async (store) => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }), async (data, metadata) => {
          const result = await store.append("json", [{ type: "J", data: data as JsonValue, metadata: metadata as Record<string, JsonValue> }]);
          const read = await store.readStream("json", { fromVersion: result.nextExpectedVersion });
          expect(read.events[0]?.data).toEqual(JSON.parse(JSON.stringify(data)));
          expect(read.events[0]?.metadata).toEqual(JSON.parse(JSON.stringify(metadata)));
        }),
        { numRuns: numRuns * 4 },
      );
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Lease times short enough to lapse within a test; the SQL stores expire on the database's clock,
 * so tests wait for real. Tests only ever rely on a short lease having lapsed after `lapse()`, never
 * on one still holding (a loaded machine may take longer than `shortTtlMs` between two calls).
 */
const shortTtlMs = 60;
const lapse = (): Promise<void> => sleep(shortTtlMs * 2);
const longTtlMs = 60_000;

/** Runs a coordination test; skipped for a store that ships without `coordination`. */
function withCoordination(factory: EventStoreFactory, body: (store: EventStore, coordination: Coordination) => Promise<void>): (context: TestContext) => Promise<void> {
  return (context) =>
    withStore(factory, async (store) => {
      if (store.coordination === undefined) {
        context.skip("this store has no coordination");
        return;
      }
      await body(store, store.coordination);
    });
}

/** Leases with fencing tokens, claims, the instance registry and the command inbox. */
export function coordinationConformance(factory: EventStoreFactory): void {
  it("a lease taken before the stream exists fences its appends", withCoordination(factory, async (store, coordination) => {
    const lease = await coordination.acquire("s", "a", longTtlMs);
    expect(lease).toMatchObject({ streamId: "s", owner: "a" });
    if (lease === null) throw new Error("no lease");
    expect(Number.isSafeInteger(lease.token) && lease.token >= 1).toBe(true);
    expect(Number.isFinite(lease.expiresAt)).toBe(true);
    await store.append("s", [event("Created")], { expectedVersion: NO_STREAM, fence: lease });
    await store.append("s", [event("Fenced")], { expectedVersion: 1, fence: { owner: lease.owner, token: lease.token } });
    const wrongToken = await store.append("s", [event("Wrong")], { fence: { owner: "a", token: lease.token + 1 } }).catch((reason: unknown) => reason);
    expect(isStoreError(wrongToken, "LEASE_LOST")).toBe(true);
    expect(isStoreError(wrongToken) && wrongToken.details).toMatchObject({ streamId: "s" });
    await expectStoreError(store.append("s", [event("Wrong")], { fence: { owner: "b", token: lease.token } }), "LEASE_LOST");
    await expectStoreError(store.append("unleased", [event("Wrong")], { fence: lease }), "LEASE_LOST");
    expect((await store.readStream("unleased")).exists).toBe(false);
    // Appends without a fence are not subject to leases at all.
    await store.append("s", [event("Unfenced")], { expectedVersion: 2 });
    expect((await store.readStream("s")).events.map((e) => e.type)).toEqual(["Created", "Fenced", "Unfenced"]);
  }));

  it("another owner cannot take an unexpired lease; the holder taking it again gets a larger token", withCoordination(factory, async (store, coordination) => {
    const first = await coordination.acquire("s", "a", longTtlMs);
    if (first === null) throw new Error("no lease");
    await store.append("s", [event("Created")], { fence: first });
    expect(await coordination.acquire("s", "b", longTtlMs)).toBeNull();
    const second = await coordination.acquire("s", "a", longTtlMs);
    expect(second?.owner).toBe("a");
    expect(second?.token).toBeGreaterThan(first.token);
    await expectStoreError(store.append("s", [event("Stale")], { fence: first }), "LEASE_LOST");
    if (second === null) throw new Error("no lease");
    await store.append("s", [event("Current")], { fence: second });
    expect((await store.readStream("s")).events.map((e) => e.type)).toEqual(["Created", "Current"]);
  }));

  it("a lapsed lease refuses its holder's appends and passes to another owner with a larger token", withCoordination(factory, async (store, coordination) => {
    const old = await coordination.acquire("s", "a", longTtlMs);
    if (old === null) throw new Error("no lease");
    await store.append("s", [event("Created")], { fence: old });
    // Renewing can shorten a lease too.
    expect(await coordination.renew([old], shortTtlMs)).toHaveLength(1);
    await lapse();
    // Lapsed but not yet taken: the holder may no longer write.
    await expectStoreError(store.append("s", [event("Late")], { fence: old }), "LEASE_LOST");
    await expectStoreError(store.append("s", [event("Late")], { fence: old, streamMetadata: { late: true } }), "LEASE_LOST");
    const next = await coordination.acquire("s", "b", longTtlMs);
    expect(next?.owner).toBe("b");
    expect(next?.token).toBeGreaterThan(old.token);
    if (next === null) throw new Error("no lease");
    await expectStoreError(store.append("s", [event("Zombie")], { fence: old }), "LEASE_LOST");
    await store.append("s", [event("TakenOver")], { fence: next, expectedVersion: 1 });
    const read = await store.readStream("s");
    expect(read.events.map((e) => e.type)).toEqual(["Created", "TakenOver"]);
    expect((await store.listStreams())[0]?.metadata).toEqual({});
    // The old owner cannot take it back while the new lease holds.
    expect(await coordination.acquire("s", "a", longTtlMs)).toBeNull();
  }));

  it("renew extends only the leases still held as given", withCoordination(factory, async (store, coordination) => {
    const held = await coordination.acquire("held", "a", longTtlMs);
    const lapsing = await coordination.acquire("lapsing", "a", shortTtlMs);
    const superseded = await coordination.acquire("superseded", "a", longTtlMs);
    const current = await coordination.acquire("superseded", "a", longTtlMs);
    if (held === null || lapsing === null || superseded === null || current === null) throw new Error("no lease");
    await lapse();
    const renewed = await coordination.renew([held, lapsing, superseded, { ...held, owner: "b" }], longTtlMs * 2);
    expect(renewed.map(({ streamId, owner, token }) => ({ streamId, owner, token }))).toEqual([{ streamId: "held", owner: "a", token: held.token }]);
    expect(renewed[0]?.expiresAt).toBeGreaterThan(held.expiresAt);
    expect(await coordination.renew([], longTtlMs)).toEqual([]);
    await store.append("held", [event("StillMine")], { fence: held });
    await expectStoreError(store.append("lapsing", [event("Lost")], { fence: lapsing }), "LEASE_LOST");
    expect(await coordination.renew([current], longTtlMs)).toHaveLength(1);
  }));

  it("release frees a lease at once, and tokens never go backwards", withCoordination(factory, async (store, coordination) => {
    const first = await coordination.acquire("s", "a", longTtlMs);
    if (first === null) throw new Error("no lease");
    await store.append("s", [event("Created")], { fence: first });
    await coordination.release([first]);
    await coordination.release([first]);
    await expectStoreError(store.append("s", [event("AfterRelease")], { fence: first }), "LEASE_LOST");
    const second = await coordination.acquire("s", "b", longTtlMs);
    expect(second?.token).toBeGreaterThan(first.token);
    // Releasing a lease that changed hands frees nothing.
    await coordination.release([first]);
    expect(await coordination.acquire("s", "c", longTtlMs)).toBeNull();
    if (second === null) throw new Error("no lease");
    await coordination.release([second]);
    const [claimed] = await coordination.claim({ owner: "c", ttlMs: longTtlMs, limit: 5 });
    expect(claimed?.streamId).toBe("s");
    expect(claimed?.token).toBeGreaterThan(second.token);
    expect(await coordination.acquire("s", "a", longTtlMs)).toBeNull();
  }));

  it("a final stream cannot be leased or claimed; its holder's next append is STREAM_FINAL", withCoordination(factory, async (store, coordination) => {
    await store.append("done", [event("Done")], { markFinal: true });
    expect(await coordination.acquire("done", "a", longTtlMs)).toBeNull();
    const lease = await coordination.acquire("finishing", "a", longTtlMs);
    if (lease === null) throw new Error("no lease");
    await store.append("finishing", [event("Done")], { fence: lease, markFinal: true });
    await expectStoreError(store.append("finishing", [event("More")], { fence: lease }), "STREAM_FINAL");
    await coordination.release([lease]);
    expect(await coordination.claim({ owner: "b", ttlMs: longTtlMs, limit: 10 })).toEqual([]);
    expect(await coordination.acquire("finishing", "b", longTtlMs)).toBeNull();
  }));

  it("claim takes open streams without a live lease, oldest first, up to the limit, of one first event type", withCoordination(factory, async (store, coordination) => {
    // Ids sort in creation order, so ties of the creation clock order the same everywhere.
    for (const [id, type] of [["c-0", "Session"], ["c-1", "Session"], ["c-2", "Other"], ["c-3", "Session"], ["c-4", "Session"], ["c-5", "Session"], ["c-6", "Session"]] as const) {
      await store.append(id, [event(type), event("Next")], { markFinal: id === "c-3" });
    }
    expect(await coordination.acquire("c-1", "x", longTtlMs)).not.toBeNull();
    const first = await coordination.claim({ owner: "a", ttlMs: longTtlMs, limit: 2, firstEventType: "Session" });
    expect(first.map((lease) => [lease.streamId, lease.owner, lease.token])).toEqual([["c-0", "a", 1], ["c-4", "a", 1]]);
    expect(first.every((lease) => Number.isFinite(lease.expiresAt))).toBe(true);
    const [oldest] = first;
    if (oldest === undefined) throw new Error("nothing claimed");
    await store.append("c-0", [event("Claimed")], { fence: oldest });
    const second = await coordination.claim({ owner: "b", ttlMs: longTtlMs, limit: 10, firstEventType: "Session" });
    expect(second.map((lease) => lease.streamId)).toEqual(["c-5", "c-6"]);
    expect(await coordination.claim({ owner: "b", ttlMs: longTtlMs, limit: 10 })).toMatchObject([{ streamId: "c-2", owner: "b" }]);
    expect(await coordination.claim({ owner: "c", ttlMs: longTtlMs, limit: 10 })).toEqual([]);
    // A lapsed lease is claimed like a free stream, with the next token.
    await store.append("c-7", [event("Session")]);
    const lapsing = await coordination.acquire("c-7", "x", shortTtlMs);
    await lapse();
    const third = await coordination.claim({ owner: "b", ttlMs: longTtlMs, limit: 10 });
    expect(third.map((lease) => [lease.streamId, lease.token])).toEqual([["c-7", (lapsing?.token ?? 0) + 1]]);
  }));

  it("claim leaves the streams in exclude alone, free or lapsed, and takes the next ones in their place", withCoordination(factory, async (store, coordination) => {
    for (const id of ["x-0", "x-1", "x-2", "x-3"]) await store.append(id, [event("Session")]);
    const lapsing = await coordination.acquire("x-1", "gone", shortTtlMs);
    await lapse();
    expect(lapsing).not.toBeNull();
    const taken = await coordination.claim({ owner: "a", ttlMs: longTtlMs, limit: 2, exclude: ["x-0", "x-1", "never-written"] });
    expect(taken.map((lease) => lease.streamId)).toEqual(["x-2", "x-3"]);
    expect(await coordination.claim({ owner: "b", ttlMs: longTtlMs, limit: 10, exclude: [] })).toMatchObject([{ streamId: "x-0", token: 1 }, { streamId: "x-1", token: (lapsing?.token ?? 0) + 1 }]);
    await expect(coordination.claim({ owner: "c", ttlMs: longTtlMs, limit: 1, exclude: [""] })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  }));

  it("concurrent claimers never get the same stream", withCoordination(factory, async (store, coordination) => {
    await Promise.all(Array.from({ length: 30 }, (_, index) => store.append(`s-${String(index).padStart(2, "0")}`, [event("Session")])));
    const taken = new Map<string, string>();
    for (let round = 0; round < 10 && taken.size < 30; round++) {
      const claims = await Promise.all(Array.from({ length: 5 }, (_, claimer) => coordination.claim({ owner: `claimer-${claimer}`, ttlMs: longTtlMs, limit: 10 })));
      claims.forEach((leases, claimer) => {
        expect(leases.length).toBeLessThanOrEqual(10);
        for (const lease of leases) {
          expect(taken.get(lease.streamId), `${lease.streamId} claimed twice`).toBeUndefined();
          expect(lease.owner).toBe(`claimer-${claimer}`);
          taken.set(lease.streamId, lease.owner);
        }
      });
    }
    expect(taken.size).toBe(30);
    expect(await coordination.claim({ owner: "late", ttlMs: longTtlMs, limit: 10 })).toEqual([]);
  }));

  it("commands: issue is idempotent, pending lists them in issue order, complete removes them", withCoordination(factory, async (_store, coordination) => {
    const data = { text: "déjà vu 🚀", nested: [1, { ok: true }], nul: "a\u0000b" };
    await coordination.issue({ commandId: "c1", streamId: "s1", type: "prompt.submit", data });
    await coordination.issue({ commandId: "c2", streamId: "s2", type: "session.close", data: null });
    await coordination.issue({ commandId: "c3", streamId: "s1", type: "turn.abort", data: "p-1" });
    await coordination.issue({ commandId: "c1", streamId: "s1", type: "prompt.submit", data: { text: "a retry must not replace it" } });
    const s1 = await coordination.pending(["s1"]);
    expect(s1.map(({ commandId, streamId, type, data: d }) => ({ commandId, streamId, type, data: d }))).toEqual([
      { commandId: "c1", streamId: "s1", type: "prompt.submit", data },
      { commandId: "c3", streamId: "s1", type: "turn.abort", data: "p-1" },
    ]);
    expect(s1.every((command) => Number.isSafeInteger(command.issuedAt))).toBe(true);
    expect((await coordination.pending(["s2", "s1"])).map((command) => command.commandId)).toEqual(["c1", "c2", "c3"]);
    expect(await coordination.pending([])).toEqual([]);
    expect(await coordination.pending(["nobody"])).toEqual([]);
    await coordination.complete(["c1", "unknown"]);
    await coordination.complete(["c1"]);
    await coordination.complete([]);
    expect((await coordination.pending(["s1", "s2"])).map((command) => command.commandId)).toEqual(["c2", "c3"]);
  }));

  it("onChange reports issued commands and released leases in process; unsubscribing stops it", withCoordination(factory, async (_store, coordination) => {
    const changes: string[] = [];
    const off = coordination.onChange((change) => changes.push(change));
    const throwing = coordination.onChange(() => {
      throw new Error("a listener's failure is its own");
    });
    await coordination.issue({ commandId: "c1", streamId: "s", type: "go", data: {} });
    expect(changes).toContain("command");
    const lease = await coordination.acquire("s", "a", longTtlMs);
    if (lease === null) throw new Error("no lease");
    await coordination.release([lease]);
    expect(changes).toContain("lease");
    off();
    throwing();
    off();
    const count = changes.length;
    await coordination.issue({ commandId: "c2", streamId: "s", type: "go", data: {} });
    await sleep(50);
    expect(changes).toHaveLength(count);
  }));

  it("announce counts live instances and open streams; retire removes an instance", withCoordination(factory, async (store, coordination) => {
    expect(await coordination.announce("i1", { ttlMs: longTtlMs })).toEqual({ liveInstances: 1, openStreams: 0 });
    await store.append("a", [event("Session")]);
    await store.append("b", [event("Session")]);
    await store.append("c", [event("Other")]);
    await store.append("d", [event("Session")], { markFinal: true });
    expect(await coordination.announce("i2", { ttlMs: longTtlMs, firstEventType: "Session" })).toEqual({ liveInstances: 2, openStreams: 2 });
    expect(await coordination.announce("i1", { ttlMs: longTtlMs })).toEqual({ liveInstances: 2, openStreams: 3 });
    // Announcing again can shorten the registration; then let it lapse.
    await coordination.announce("i2", { ttlMs: shortTtlMs });
    await lapse();
    expect(await coordination.announce("i1", { ttlMs: longTtlMs })).toMatchObject({ liveInstances: 1 });
    await coordination.retire("i1");
    await coordination.retire("i1");
    expect(await coordination.announce("i3", { ttlMs: longTtlMs })).toMatchObject({ liveInstances: 1 });
  }));

  it("a fenced append that lost its lease rejects alone in a concurrent batch", withCoordination(factory, async (store, coordination) => {
    const good = await coordination.acquire("good", "a", longTtlMs);
    const stale = await coordination.acquire("bad", "a", longTtlMs);
    const mixed = await coordination.acquire("mixed", "a", longTtlMs);
    if (good === null || stale === null || mixed === null) throw new Error("no lease");
    expect(await coordination.acquire("bad", "a", longTtlMs)).not.toBeNull();
    const results = await Promise.allSettled([
      ...Array.from({ length: 10 }, (_, index) => store.append(`plain-${index}`, [event("A")], { expectedVersion: NO_STREAM })),
      store.append("good", [event("A")], { fence: good, expectedVersion: NO_STREAM }),
      store.append("bad", [event("A")], { fence: stale }),
      // One stream, appends with different fences in one burst: each is judged on its own.
      store.append("mixed", [event("A")], { fence: mixed, expectedVersion: 0 }),
      store.append("mixed", [event("B")]),
      store.append("mixed", [event("C")], { fence: { owner: "a", token: mixed.token + 1 } }),
      store.append("mixed", [event("D")], { fence: mixed, expectedVersion: 2 }),
    ]);
    expect(results.map((result) => result.status)).toEqual([...Array.from({ length: 11 }, () => "fulfilled"), "rejected", "fulfilled", "fulfilled", "rejected", "fulfilled"]);
    const rejected = results.filter((result): result is PromiseRejectedResult => result.status === "rejected");
    for (const result of rejected) expect(isStoreError(result.reason, "LEASE_LOST")).toBe(true);
    expect((await store.readStream("bad")).exists).toBe(false);
    expect((await store.readStream("mixed")).events.map((e) => e.type)).toEqual(["A", "B", "D"]);
    expect(await readEverything(store)).toHaveLength(14);
  }));

  it("rejects invalid coordination arguments with INVALID_ARGUMENT", withCoordination(factory, async (store, coordination) => {
    await expectStoreError(coordination.acquire("", "a", 1000), "INVALID_ARGUMENT");
    await expectStoreError(coordination.acquire("s", "", 1000), "INVALID_ARGUMENT");
    await expectStoreError(coordination.acquire("s", "a", 0), "INVALID_ARGUMENT");
    await expectStoreError(coordination.acquire("s", "a", Number.NaN), "INVALID_ARGUMENT");
    await expectStoreError(coordination.claim({ owner: "a", ttlMs: 1000, limit: 0 }), "INVALID_ARGUMENT");
    await expectStoreError(coordination.claim({ owner: "a", ttlMs: 1000, limit: 1.5 }), "INVALID_ARGUMENT");
    await expectStoreError(coordination.renew([{ streamId: "s", owner: "a", token: 0, expiresAt: 0 }], 1000), "INVALID_ARGUMENT");
    await expectStoreError(coordination.announce("i", { ttlMs: -1 }), "INVALID_ARGUMENT");
    await expectStoreError(coordination.issue({ commandId: "", streamId: "s", type: "go", data: {} }), "INVALID_ARGUMENT");
    await expectStoreError(coordination.issue({ commandId: "c", streamId: "s", type: "go", data: { big: 1n } as unknown as JsonValue }), "INVALID_ARGUMENT");
    await expectStoreError(store.append("s", [event("A")], { fence: { owner: "a", token: 0 } }), "INVALID_ARGUMENT");
    await expectStoreError(store.append("s", [event("A")], { fence: { owner: "", token: 1 } }), "INVALID_ARGUMENT");
    expect((await store.readStream("s")).exists).toBe(false);
  }));

  it("refuses coordination calls after close", withCoordination(factory, async (store, coordination) => {
    await store.close();
    await expectStoreError(coordination.acquire("s", "a", 1000), "STORE_CLOSED");
    await expectStoreError(coordination.claim({ owner: "a", ttlMs: 1000, limit: 1 }), "STORE_CLOSED");
    await expectStoreError(coordination.renew([], 1000), "STORE_CLOSED");
    await expectStoreError(coordination.issue({ commandId: "c", streamId: "s", type: "go", data: {} }), "STORE_CLOSED");
    await expectStoreError(coordination.pending(["s"]), "STORE_CLOSED");
    expect(typeof coordination.onChange(() => undefined)).toBe("function");
  }));
}
