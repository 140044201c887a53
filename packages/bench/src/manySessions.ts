import { createEngine, disableNagle, type SessionHandle } from "@cloudsession/engine";
import { AGENT_PRODUCER } from "@cloudsession/machine";
import { startSimulator } from "@cloudsession/simulator";
import { approveAll, CopilotClient, RuntimeConnection, type CopilotSession } from "@github/copilot-sdk";
import { absoluteFigure, collectGarbage, ratioFigure, tick, type Benchmark, type BenchmarkResult } from "./report.js";
import { closeWithin, waitAtMost, waitUntil } from "./readyWait.js";

interface Phase {
  readonly ms: number;
  readonly ready: number;
  readonly heapBytesPerSession: number;
}

/**
 * Benchmark 4: N concurrent cloud sessions through the real SDK client and the simulator, all in
 * this process. Baseline: one bare SDK client creating the same N sessions and waiting for each
 * agent start. Subject: the engine (in-memory store) starting N sessions until all are `ready`.
 * Heap is measured after GC, before and after; the engine's own share per idle session is the
 * difference (client, simulator and the SDK sessions are in both).
 */
export const manySessions: Benchmark = {
  name: "manySessions",
  title: "4. 10,000 concurrent sessions: heap per idle session and time until ready",
  async run({ quick, log }): Promise<BenchmarkResult> {
    const count = quick ? 50 : 10_000;
    const gc = collectGarbage();
    const bare = await bareSessions(count, quick);
    await tick(50);
    const engine = await engineSessions(count, quick);
    const engineShare = engine.heapBytesPerSession - bare.heapBytesPerSession;
    log(`bare ${bare.ms.toFixed(0)} ms, ${(bare.heapBytesPerSession / 1024).toFixed(2)} KB/session; engine ${engine.ms.toFixed(0)} ms, ${(engine.heapBytesPerSession / 1024).toFixed(2)} KB/session; gc ${gc}`);
    return {
      name: "manySessions",
      quick,
      figures: [
        absoluteFigure({ metric: `engine heap per idle session (${count} sessions, after GC)`, unit: "KB", subject: engineShare / 1024, baseline: null, baselineLabel: "", target: { atMost: 10 } }),
        absoluteFigure({ metric: "heap per idle session, SDK + simulator included", unit: "KB", subject: engine.heapBytesPerSession / 1024, baseline: bare.heapBytesPerSession / 1024, baselineLabel: "bare SDK", target: null }),
        absoluteFigure({ metric: "sessions ready", unit: "", subject: engine.ready, baseline: bare.ready, baselineLabel: "bare SDK", target: { atLeast: count } }),
        ratioFigure({ metric: `time until all ${count} sessions are ready (or gave up waiting)`, unit: "ms", subject: engine.ms, baseline: bare.ms, baselineLabel: "bare SDK", target: null }),
      ],
      details: { sessions: count, gcExposed: gc, bare, engine, engineShareBytesPerSession: engineShare },
    };
  },
};

/**
 * Real-time latencies at full size (reservation 200–400 ms, agent 1–2 s): with scaled time the agent
 * of a session can start before a client swamped by 10,000 creates has registered it, and the SDK
 * drops that `session.start` (the engine recovers it from history; a bare handler never sees it).
 */
const scenarioFor = (quick: boolean) => ({ seed: 4, timeScale: quick ? 0.01 : 1, defaults: { noise: false } });

async function bareSessions(count: number, quick: boolean): Promise<Phase> {
  const sim = await startSimulator(scenarioFor(quick));
  const client = new CopilotClient({ connection: RuntimeConnection.forUri(sim.url) });
  try {
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    await client.start();
    // The same socket as the engine's client (Nagle off): the comparison is of the engine's work.
    disableNagle(client);
    let ready = 0;
    const sessions: CopilotSession[] = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        client.createSession({
          streaming: true,
          cloud: { repository: { owner: "bench", name: `many-${i % 100}` } },
          onPermissionRequest: approveAll,
          onEvent: (event) => {
            if (event.type === "session.start" && event.data.producer === AGENT_PRODUCER) ready++;
          },
        }),
      ),
    );
    await waitUntil(() => ready >= count, `${count} bare agent starts`, 300_000, () => `${ready} started, ${sim.stats.sessionsCreated} created`);
    const ms = performance.now() - started;
    await tick(50);
    collectGarbage();
    const after = process.memoryUsage().heapUsed;
    if (sessions.length !== count) throw new Error("manySessions: lost a session");
    return { ms, ready, heapBytesPerSession: (after - before) / count };
  } finally {
    await client.forceStop().catch(() => undefined);
    await sim.close();
  }
}

async function engineSessions(count: number, quick: boolean): Promise<Phase> {
  const sim = await startSimulator(scenarioFor(quick));
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const started = performance.now();
  // heartbeatMs 0: with the default 5 s heartbeat, a ping queued behind 10,000 creates on the one
  // connection times out, the engine replaces a healthy connection and sessions stall (see README).
  const engine = createEngine({ runtimeUrl: sim.url, maxConcurrent: count, heartbeatMs: 0 });
  try {
    const handles: SessionHandle[] = await Promise.all(Array.from({ length: count }, (_, i) => engine.start({ repository: { owner: "bench", name: `many-${i % 100}` } })));
    // Bounded: a session whose agent start was lost stays in awaiting-agent until its 60 s deadline.
    await waitAtMost(() => handles.every((handle) => handle.state === "ready"), `${count} engine sessions ready`, quick ? 30_000 : 90_000, () => `${countStates(handles)}; runtime connections opened ${sim.stats.connectionsOpened}, resumes ${sim.stats.resumes}`);
    const ms = performance.now() - started;
    await engine.settled();
    await tick(50);
    collectGarbage();
    const after = process.memoryUsage().heapUsed;
    const ready = handles.filter((handle) => handle.state === "ready").length;
    if (ready < count) console.error(`  manySessions: only ${ready} of ${count} engine sessions ready (${countStates(handles)})`);
    return { ms, ready, heapBytesPerSession: (after - before) / count };
  } finally {
    if (!(await closeWithin(() => engine.close(), 10_000))) console.error(`  manySessions: engine.close() with ${count} sessions still running after 10 s; closing the simulator under it`);
    await sim.close();
  }
}

export function countStates(handles: readonly SessionHandle[]): string {
  const counts = new Map<string, number>();
  for (const handle of handles) counts.set(handle.state, (counts.get(handle.state) ?? 0) + 1);
  return [...counts].map(([state, n]) => `${state} ${n}`).join(", ");
}
