import { replay } from "@cloudsession/machine";
import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { openStore, type EventStore } from "@cloudsession/store";
import fc from "fast-check";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bundleChild } from "../support/bundleChild.js";
import { decodeEvent, type ProbePoint } from "../../src/index.js";
import type { CrashChildConfig } from "./crashChild.js";

// Every labelled point of the write-ahead protocol that a crash can interrupt.
const killPoints: readonly ProbePoint[] = [
  "recorded:session.requested",
  "before:createSession",
  "after:createSession",
  "recorded:reservation.succeeded",
  "recorded:agent.started",
  "recorded:remote-url.published",
  "recorded:prompt.submitted",
  "recorded:prompt.dispatching",
  "before:send",
  "after:send",
  "recorded:prompt.dispatched",
  "recorded:turn.progressed",
  "recorded:assistant.message",
  "recorded:turn.idle",
  "recorded:close.requested",
];

const postgresUrl = process.env.CLOUDSESSION_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
// CI runs the full 200 trials (PGlite trials cost ~4 s per process start); locally a quick sample.
const inCi = process.env.CI === "true";
const trialsPerStore = {
  postgres: Number(process.env.CRASH_TRIALS_PG ?? (inCi ? 160 : 16)),
  pglite: Number(process.env.CRASH_TRIALS_PGLITE ?? (inCi ? 40 : 4)),
};
const childSource = new URL("./crashChild.ts", import.meta.url).pathname;
let childScript: string;

let sim: Simulator;
let scratch: string;
let postgresReachable = false;
const counts = { trials: 0, killed: 0 };

beforeAll(async () => {
  sim = await startSimulator({ seed: 7, timeScale: 0.01, defaults: { noise: false, reply: (prompt: string) => `ack ${prompt}` } });
  scratch = mkdtempSync(join(tmpdir(), "cloudsession-crash-"));
  // One bundle up front: hundreds of children then start in a fraction of a second each.
  // Inside this package, so the bundle's externals (pg, PGlite) resolve from its node_modules.
  childScript = new URL("../../node_modules/.crash-build/crashChild.mjs", import.meta.url).pathname;
  await bundleChild(childSource, childScript);
  const client = new pg.Client({ connectionString: postgresUrl });
  try {
    await client.connect();
    await client.end();
    postgresReachable = true;
  } catch {
    console.warn("\n*** crash tests: no PostgreSQL on 127.0.0.1:5432 — running the PostgreSQL trials on PGlite instead ***\n");
  }
});

afterAll(async () => {
  await sim.close();
  rmSync(scratch, { recursive: true, force: true });
  console.log(`crash trials: ${counts.trials} run, ${counts.killed} killed at their probe point`);
});

function runChild(config: CrashChildConfig): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const file = join(scratch, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript, file], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    // A child that outlives its work (a leaked connection or timer) is a bug: fail loudly.
    const watchdog = setTimeout(() => {
      output += "\n[watchdog: no exit after 60 s]";
      child.kill("SIGKILL");
    }, 60_000);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(watchdog);
      resolve({ code, signal: output.includes("[watchdog") ? null : signal, output });
    });
  });
}

const trial = fc.record({
  killAt: fc.record({ point: fc.constantFrom(...killPoints), occurrence: fc.integer({ min: 1, max: 3 }) }),
  sessions: fc.array(fc.record({ atStart: fc.integer({ min: 0, max: 2 }), later: fc.integer({ min: 0, max: 2 }) }), { minLength: 1, maxLength: 2 }),
});

type Trial = typeof trial extends fc.Arbitrary<infer T> ? T : never;

async function runTrial(kind: "postgres" | "pglite", input: Trial, index: number): Promise<void> {
  const tag = `${kind}${index}-${Math.random().toString(36).slice(2, 8)}`;
  const storeSpec = kind === "postgres" && postgresReachable ? postgresUrl : join(scratch, tag);
  const schema = `crash_${tag.replace(/[^a-z0-9]/g, "_")}`;
  const sessions = input.sessions.map((spec, n) => ({
    repository: `crash/${tag}-${n}`,
    atStart: Array.from({ length: spec.atStart }, (_, i) => `${tag}-${n} start ${i}`),
    later: Array.from({ length: spec.later }, (_, i) => `${tag}-${n} later ${i}`),
  }));
  const base = { store: storeSpec, schema, runtimeUrl: sim.url };
  const first = await runChild({ ...base, mode: "run", sessions, killAt: input.killAt });
  counts.trials++;
  if (first.signal === "SIGKILL") counts.killed++;
  else expect(first.code, first.output).toBe(0);
  const second = await runChild({ ...base, mode: "recover" });
  expect(second.code, second.output).toBe(0);

  const store: EventStore = await openStore(storeSpec, { schema });
  try {
    const open = await store.listStreams({ status: "open" });
    expect(open, "every session ends in a final state").toEqual([]);
    const streams = await store.listStreams({ status: "all" });
    for (const summary of streams) {
      const { events } = await store.readStream(summary.streamId);
      const log = events.map((row) => decodeEvent(row, row));
      // No event is missing: versions are contiguous and the log replays to a final state.
      expect(events.map((event) => event.version)).toEqual(events.map((_, i) => i + 1));
      const snapshot = replay(log);
      expect(snapshot.status).toBe("done");
      expect(snapshot.value).toBe("closed");
      const sessionId = snapshot.context.sessionId;
      for (const prompt of snapshot.context.prompts) {
        // Every recorded prompt reached the worker exactly once.
        expect(prompt.status, JSON.stringify(prompt)).toBe("completed");
        expect(sim.stats.timesReceived(prompt.text, sessionId ?? undefined), prompt.text).toBe(1);
      }
      // Nothing reached the worker that the log does not know of.
      const logged = new Set(snapshot.context.prompts.map((prompt) => prompt.text));
      const worker = sessionId === null ? [] : (sim.stats.sessions.get(sessionId)?.promptsReceived ?? []);
      expect(worker.filter((text) => !logged.has(text))).toEqual([]);
    }
  } finally {
    if (kind === "postgres" && postgresReachable) await dropSchema(schema);
    await store.close();
  }
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

describe("crash recovery: SIGKILL at a labelled point, restart on the same store", () => {
  for (const kind of ["postgres", "pglite"] as const) {
    test(`${kind}: every recorded prompt reaches the worker exactly once`, async () => {
      let index = 0;
      await fc.assert(
        fc.asyncProperty(trial, (input) => runTrial(kind, input, index++)),
        { numRuns: trialsPerStore[kind], endOnFailure: true },
      );
    }, 1_800_000);
  }
});
