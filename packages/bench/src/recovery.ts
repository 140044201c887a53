import { createEngine, decodeEvent, disableNagle, type SessionHandle } from "@cloudsession/engine";
import { replay } from "@cloudsession/machine";
import { openPostgresStore, type EventStore } from "@cloudsession/store";
import { approveAll, CopilotClient, RuntimeConnection } from "@github/copilot-sdk";
import pg from "pg";
import { postgresUrl } from "./durableAppends.js";
import { absoluteFigure, tick, type Benchmark, type BenchmarkResult } from "./report.js";
import { countStates } from "./manySessions.js";
import { startSimulatorProcess } from "./simulatorProcess.js";
import { closeWithin, waitAtMost, waitUntil } from "./readyWait.js";
import { settleDatabase } from "./settleDatabase.js";

/**
 * Benchmark 6a: recovery of N open sessions after a restart, on PostgreSQL. Setup: an engine
 * creates N sessions through the simulator until all are ready, then detaches (`close()`): N open
 * logs in the store, N live sessions in the simulator. Measured, in a fresh engine on a fresh store
 * connection: `engine.recover()` until it resolves (read every open log, rebuild each actor,
 * `resumeSession` without `cloud`, record `session.resumed`, settle from history). Reported next
 * to it: when, during that same call, every log had been read and restored (the last open session
 * has a handle; recovery tracks them in the store's order and re-attaches each as soon as it is
 * restored, so the rest of the call is re-attaching), the process CPU time and event-loop
 * utilization of the call (engine and SDK client share the thread; the simulator runs in its own
 * process, as the real runtime does), the store-only
 * part (list + read + decode + replay every log, one at a time) and, as the baseline, a bare SDK
 * client resuming the same N sessions concurrently.
 */
export const recovery: Benchmark = {
  name: "recovery",
  title: "6a. recovery of 10,000 open sessions after a restart (PostgreSQL)",
  async run({ quick, log }): Promise<BenchmarkResult> {
    const count = quick ? 20 : 10_000;
    const schema = `bench_recovery_${Date.now().toString(36)}`;
    const sim = await startSimulatorProcess({ seed: 6, timeScale: 0.01, defaults: { noise: false } });
    const admin = new pg.Pool({ connectionString: postgresUrl, max: 1 });
    try {
      const setupStarted = performance.now();
      const { sessionIds, closeMs } = await createOpenSessions(sim.url, schema, count, quick);
      const setupMs = performance.now() - setupStarted;

      const bareMs = await bareResume(sim.url, sessionIds);

      // Creating 10,000 sessions wrote ~50,000 rows: the checkpoint and autovacuum that sets off must
      // not land on the timed reads (once, a checkpoint mid-read tripled recover()).
      await settleDatabase(admin, [`"${schema}".events`, `"${schema}".streams`]);
      const loadStore = await openPostgresStore({ connectionString: postgresUrl, schema });
      const loadMs = await loadFromStore(loadStore, count).finally(() => loadStore.close());

      await settleDatabase(admin, [`"${schema}".events`, `"${schema}".streams`]);
      const store = await openPostgresStore({ connectionString: postgresUrl, schema });
      const engine = createEngine({ runtimeUrl: sim.url, store, maxConcurrent: count, heartbeatMs: 0 });
      let recoverMs: number;
      let restoredMs: number;
      let recoverCpuMs: number;
      let recoverElu: number;
      let recovered: SessionHandle[];
      let readyAfter: number;
      try {
        // Recovery tracks sessions in the store's order: once the last open one has a handle, every
        // log is read and restored (re-attaching may still be under way). Polled through the public API.
        const lastOpen = (await store.listStreams({ status: "open" })).at(-1)?.streamId ?? "";
        const cpuBefore = process.cpuUsage();
        const eluBefore = performance.eventLoopUtilization();
        const started = performance.now();
        let restoredAt: number | undefined;
        const watch = setInterval(() => {
          if (restoredAt === undefined && engine.get(lastOpen) !== undefined) restoredAt = performance.now();
        }, 5);
        try {
          recovered = await engine.recover();
        } finally {
          clearInterval(watch);
        }
        recoverMs = performance.now() - started;
        restoredMs = (restoredAt ?? performance.now()) - started;
        const cpu = process.cpuUsage(cpuBefore);
        recoverCpuMs = (cpu.user + cpu.system) / 1000;
        recoverElu = performance.eventLoopUtilization(eluBefore).utilization;
        readyAfter = recovered.filter((handle) => handle.state === "ready" && handle.snapshot().context.resumes === 1).length;
        if (recovered.length !== count) throw new Error(`recovery: ${recovered.length} of ${count} recovered`);
        if (readyAfter < count) log(`only ${readyAfter} of ${count} ready with one resume after recover() (${countStates(recovered)})`);
      } finally {
        await closeWithin(() => engine.close(), 10_000);
        await store.close();
      }
      log(
        `setup ${setupMs.toFixed(0)} ms (its engine.close() of ${count} sessions: ${closeMs === null ? "over 10 s" : `${closeMs.toFixed(0)} ms`}); store-only load ${loadMs.toFixed(0)} ms; recover() ${recoverMs.toFixed(0)} ms (every log restored after ${restoredMs.toFixed(0)} ms; ` +
          `process CPU ${recoverCpuMs.toFixed(0)} ms, event loop ${(100 * recoverElu).toFixed(0)}% busy); bare resume ${bareMs.toFixed(0)} ms`,
      );
      return {
        name: "recovery",
        quick,
        figures: [
          absoluteFigure({ metric: `engine.recover() of ${count} open sessions (PostgreSQL)`, unit: "ms", subject: recoverMs, baseline: bareMs, baselineLabel: "bare SDK resume", target: { atMost: 5_000 } }),
          absoluteFigure({ metric: "sessions ready after recover()", unit: "", subject: readyAfter, baseline: null, baselineLabel: "", target: { atLeast: count } }),
          absoluteFigure({ metric: `during recover(): every log read and restored (handles tracked)`, unit: "ms", subject: restoredMs, baseline: null, baselineLabel: "", target: null }),
          absoluteFigure({ metric: `store only: read+decode+replay ${count} logs`, unit: "ms", subject: loadMs, baseline: null, baselineLabel: "", target: null }),
        ],
        details: { sessions: count, store: "PostgreSQL", schema, setupMs, setupEngineCloseMs: closeMs, readyAfterRecover: readyAfter, recoverMs, restoredMs, recoverCpuMs, recoverEventLoopUtilization: recoverElu, loadFromStoreMs: loadMs, bareResumeMs: bareMs },
      };
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await admin.end();
      await sim.close();
    }
  },
};

/**
 * Starts `count` sessions until all are ready, then detaches (`engine.close()`): the logs stay open.
 * Returns the SDK session ids, and how long that close took (`null`: still running after 10 s).
 */
async function createOpenSessions(url: string, schema: string, count: number, quick: boolean): Promise<{ sessionIds: string[]; closeMs: number | null }> {
  const store = await openPostgresStore({ connectionString: postgresUrl, schema });
  const engine = createEngine({ runtimeUrl: url, store, maxConcurrent: count, heartbeatMs: 0 });
  let sessionIds: string[];
  let closeMs: number | null = null;
  try {
    const handles = await Promise.all(Array.from({ length: count }, (_, i) => engine.start({ repository: { owner: "bench", name: `recover-${i % 100}` } })));
    // Reserved is enough: an open log is what recovery reads; a lost agent start is settled from history on resume.
    await waitUntil(() => handles.every((handle) => handle.state === "ready" || handle.state === "awaiting-agent"), `${count} sessions reserved`, 600_000, () => countStates(handles));
    await waitAtMost(() => handles.every((handle) => handle.state === "ready"), `${count} sessions ready`, quick ? 5_000 : 30_000, () => countStates(handles));
    await engine.settled();
    sessionIds = handles.map((handle) => handle.sessionId ?? "");
  } finally {
    // Detach: every session is let go of at the runtime; the logs are already durable.
    const closeStarted = performance.now();
    const closed = await closeWithin(() => engine.close(), 10_000);
    if (closed) closeMs = performance.now() - closeStarted;
    else console.error(`  recovery: engine.close() of the setup engine still running after 10 s; going on`);
    await store.close();
  }
  return { sessionIds, closeMs };
}

async function bareResume(url: string, sessionIds: readonly string[]): Promise<number> {
  const client = new CopilotClient({ connection: RuntimeConnection.forUri(url) });
  try {
    const started = performance.now();
    await client.start();
    // The same socket as the engine's client (Nagle off): the comparison is of the engine's work.
    disableNagle(client);
    const sessions = await Promise.all(sessionIds.map((id) => client.resumeSession(id, { streaming: true, onPermissionRequest: approveAll })));
    const ms = performance.now() - started;
    await Promise.all(sessions.map((session) => session.disconnect().catch(() => undefined)));
    await tick(20);
    return ms;
  } finally {
    await client.forceStop().catch(() => undefined);
  }
}

async function loadFromStore(store: EventStore, count: number): Promise<number> {
  const started = performance.now();
  const open = await store.listStreams({ status: "open" });
  let ready = 0;
  for (const summary of open) {
    const stream = await store.readStream(summary.streamId);
    const snapshot = replay(stream.events.map((row) => decodeEvent(row, row)));
    if (snapshot.status === "active") ready++;
  }
  const ms = performance.now() - started;
  if (ready !== count) throw new Error(`recovery: ${ready} of ${count} logs replayed to an open session`);
  return ms;
}
