import { fc, test } from "@fast-check/vitest";
import { replay, resolveSettings, type SessionLogEvent } from "@cloudsession/machine";
import { createInMemoryStore, openPgliteStore, type EventStore, type Subscription } from "@cloudsession/store";
import { describe, expect } from "vitest";
import { openSessionCatalog, summarize, type StoredSummary } from "../src/index.js";
import { appendLog, choicesArb, logFrom } from "./support/logs.js";

const request = (owner: string, name: string, at = 1_000): SessionLogEvent => ({ type: "session.requested", repository: { owner, name }, settings: resolveSettings(), at });

/** Resolves with the first change the catalog reports that passes `check`. */
function nextChange(catalog: ReturnType<typeof openSessionCatalog>, check: (summary: StoredSummary) => boolean): Promise<StoredSummary> {
  return new Promise((resolve) => {
    const off = catalog.onChange((summary) => {
      if (!check(summary)) return;
      off();
      resolve(summary);
    });
  });
}

describe("the sessions catalog", () => {
  test.prop([fc.array(fc.tuple(choicesArb, fc.boolean()), { minLength: 1, maxLength: 6 })], { numRuns: 60 })(
    "for any logs in the store, each row is what the machine says after its log, newest first",
    async (sessions) => {
      const store = createInMemoryStore();
      const logs = sessions.map(([choices]) => logFrom(choices));
      for (const [index, log] of logs.entries()) await appendLog(store, `s-${index}`, log, sessions[index]![1] && replay(log).status !== "active");
      const catalog = openSessionCatalog(store);
      await catalog.ready;
      expect(catalog.list().map((row) => row.id)).toEqual(logs.map((_, index) => `s-${index}`).reverse());
      for (const [index, log] of logs.entries()) {
        const row = catalog.get(`s-${index}`)!;
        const expected = summarize(`s-${index}`, replay(log), { version: log.length, createdAt: row.createdAt, updatedAt: row.updatedAt });
        expect(row).toEqual(expected);
      }
      await catalog.close();
      await store.close();
    },
  );

  test("ready waits for every session listed at opening; other kinds of streams are left out", async () => {
    const store = createInMemoryStore();
    await appendLog(store, "s-1", [request("octo", "one"), { type: "reservation.succeeded", sessionId: "sdk", at: 1_100 }]);
    await store.append("not-a-session", [{ type: "something.else", data: {} }]);
    const catalog = openSessionCatalog(store, { batchSize: 1 });
    await catalog.ready;
    expect(catalog.list().map((row) => [row.id, row.state, row.version])).toEqual([["s-1", "awaiting-agent", 2]]);
    expect(catalog.get("not-a-session")).toBeUndefined();
    await catalog.close();
  });

  test("live: a session's next event and a new session are reported once ready", async () => {
    const store = createInMemoryStore();
    await appendLog(store, "s-1", [request("octo", "one")]);
    const catalog = openSessionCatalog(store);
    await catalog.ready;
    const moved = nextChange(catalog, (row) => row.id === "s-1");
    await store.append("s-1", [{ type: "reservation.succeeded", data: { sessionId: "sdk", at: 1_200 } }]);
    expect(await moved).toMatchObject({ id: "s-1", state: "awaiting-agent", version: 2 });
    const added = nextChange(catalog, (row) => row.id === "s-2");
    await appendLog(store, "s-2", [request("octo", "two", 2_000)]);
    expect(await added).toMatchObject({ id: "s-2", repository: "octo/two", state: "reserving", statePath: "reserving.attempting" });
    expect(catalog.list().map((row) => row.id)).toEqual(["s-2", "s-1"]);
    await catalog.close();
  });

  test("a row that does not decode marks its session damaged and stops nothing else", async () => {
    const store = createInMemoryStore();
    await appendLog(store, "s-bad", [request("octo", "bad")]);
    await store.append("s-bad", [{ type: "no.such.event", data: { at: 1 } }]);
    await appendLog(store, "s-good", [request("octo", "good"), { type: "close.requested", at: 1_500 }]);
    const catalog = openSessionCatalog(store);
    await catalog.ready;
    expect(catalog.get("s-bad")).toMatchObject({ damaged: expect.stringMatching(/unknown event type/) as unknown, version: 2 });
    expect(catalog.get("s-good")).toMatchObject({ state: "closed", damaged: null });
    expect(catalog.stalled).toBeUndefined();
    await catalog.close();
  });

  test("a subscription that fails leaves the list as it was and says why", async () => {
    const store = createInMemoryStore();
    await appendLog(store, "s-1", [request("octo", "one")]);
    const failing: EventStore = {
      ...store,
      listStreams: (options) => store.listStreams(options),
      subscribe: (handler, options): Subscription => {
        const inner = store.subscribe(async (event) => {
          await handler(event);
          throw new Error("connection lost for good");
        }, options);
        return inner;
      },
    };
    const catalog = openSessionCatalog(failing);
    const reason = new Promise<string>((resolve) => catalog.onStalled(resolve));
    await catalog.ready;
    expect(await reason).toMatch(/connection lost for good/);
    expect(catalog.stalled).toMatch(/subscription stopped/);
    expect(catalog.list().map((row) => row.id)).toEqual(["s-1"]);
    await catalog.close();
  });

  test("on PGlite, through its SQL subscription", async () => {
    const store = await openPgliteStore({ dataDir: "memory://" });
    try {
      await appendLog(store, "s-1", [request("octo", "one"), { type: "reservation.failed", failure: "policy_blocked", message: "policy_blocked: no", at: 1_300 }], true);
      const catalog = openSessionCatalog(store);
      await catalog.ready;
      expect(catalog.get("s-1")).toMatchObject({ state: "blocked", final: true, failure: { phase: "reserving", reason: "policy_blocked", message: "policy_blocked: no" } });
      const added = nextChange(catalog, (row) => row.id === "s-2");
      await appendLog(store, "s-2", [request("octo", "two")]);
      expect(await added).toMatchObject({ state: "reserving" });
      await catalog.close();
    } finally {
      await store.close();
    }
    // PGlite boots its WASM database first: seconds, and a minute on a busy machine.
  }, 180_000);
});
