import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { openPostgresStore, type EventStore } from "@cloudsession/store";
import pg from "pg";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { createEngine, type Engine } from "../src/index.js";
import { completed, received, sendUntilAccepted, waitFor } from "./support/harness.js";
import { canConnect, testPostgresUrl } from "./support/postgres.js";

const postgresUrl = testPostgresUrl;
const postgresReachable = await canConnect(postgresUrl);
if (!postgresReachable) {
  console.warn(`\n*** postgresOutage.e2e.test.ts: no PostgreSQL at ${postgresUrl}: SKIPPING (set CLOUDSESSION_TEST_POSTGRES_URL) ***\n`);
}

let sim: Simulator | undefined;
let engine: Engine | undefined;
let store: EventStore | undefined;
const admin = new pg.Pool({ connectionString: postgresUrl, max: 1 });

afterAll(async () => {
  await admin.end();
});

afterEach(async () => {
  await engine?.close();
  await store?.close();
  await sim?.close();
  engine = store = sim = undefined;
});

describe.skipIf(!postgresReachable)("a real PostgreSQL going away under running sessions", () => {
  test("the store's connections killed again and again while prompts are sent: each is answered once, in order, and the sessions close", async () => {
    sim = await startSimulator({ seed: 21, timeScale: 0.01, defaults: { noise: false } });
    const tag = `cs_outage_${Date.now().toString(36)}`;
    const schema = tag;
    // The application name tags the store's connections, so only they are killed.
    store = await openPostgresStore({ connectionString: `${postgresUrl}?application_name=${tag}`, schema });
    const errors: unknown[] = [];
    engine = createEngine({ runtimeUrl: sim.url, store, heartbeatMs: 0, onError: (error) => errors.push(error) });
    const sessions = await Promise.all([0, 1, 2].map((index) => engine!.start({ repository: { owner: "octo", name: `outage-${index}` }, prompts: [`before ${index}`] })));
    await waitFor(() => sessions.every((session) => completed(session) === 1), "the first turns");

    // For ~1.5 s every connection of the store is terminated every 15 ms (a database restarting
    // over and over), while each session is sent two prompts.
    let killed = 0;
    const killer = (async () => {
      const until = Date.now() + 1_500;
      while (Date.now() < until) {
        const result = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [tag]);
        killed += result.rowCount ?? 0;
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    })();
    // Each prompt is sent as a careful caller does: a refusal (the store did not confirm) is tried
    // again under the same promptId until accepted, so it is recorded once, whatever a failed try left.
    for (const round of [0, 1]) {
      await Promise.all(sessions.map((session, index) => sendUntilAccepted(session, `during ${round}.${index}`, `${session.id}:${round}`)));
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
    await killer;

    await waitFor(() => sessions.every((session) => completed(session) === 3), "every prompt answered after the outage", 30_000);
    for (const [index, session] of sessions.entries()) {
      const expected = [`before ${index}`, `during 0.${index}`, `during 1.${index}`];
      expect(received(sim, session)).toEqual(expected);
      const log = await engine.history(session.id);
      expect(log.filter((event) => event.type === "prompt.submitted").map((event) => event.text)).toEqual(expected);
      expect((await session.close()).state).toBe("closed");
    }
    expect(killed).toBeGreaterThan(0);
    console.log(`postgresOutage: ${killed} connections killed, ${errors.length} failures reported to onError`);
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }, 60_000);
});
