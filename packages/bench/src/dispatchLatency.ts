import { createEngine, type SessionHandle } from "@cloudsession/engine";
import { AGENT_PRODUCER } from "@cloudsession/machine";
import { approveAll, CopilotClient, RuntimeConnection, type CopilotSession } from "@github/copilot-sdk";
import { absoluteFigure, percentile, tick, type Benchmark, type BenchmarkResult } from "./report.js";
import { startSimulatorProcess, type SimulatorProcess } from "./simulatorProcess.js";
import { monotonicMs, sessionIdOf, tapWire } from "./wireTap.js";

/**
 * Benchmark 5: from the agent's `session.start` leaving the simulator's socket to the queued
 * prompt's `session.send` leaving the client's socket. Subject: the engine (prompt queued at
 * `start`); baseline: a bare SDK `onEvent` handler that calls `session.send` on `session.start`.
 * Waves of concurrent sessions alternate between the two.
 *
 * The simulator runs in its own process, as the real runtime does (the SDK spawns it): in one
 * process its work would sit in the same event-loop queue as the dispatch being measured. Both
 * sides stamp their writes with the system's monotonic clock. The first waves of each side warm up
 * the code paths (JIT) and are not measured: a service that dispatches prompts runs warm.
 */
export const dispatchLatency: Benchmark = {
  name: "dispatchLatency",
  title: "5. agent start to queued prompt on the wire",
  async run({ quick, log }): Promise<BenchmarkResult> {
    const waves = quick ? 2 : 100;
    const warmupWaves = quick ? 0 : 5;
    const perWave = quick ? 5 : 10;
    const sim = await startSimulatorProcess({ seed: 5, timeScale: 0.01, defaults: { noise: false, reply: "ok" } });
    const sends = new Map<string, number>();
    const tap = tapWire(['"session.send"'], (frame) => {
      const sessionId = sessionIdOf(frame.body);
      if (sessionId !== undefined && !sends.has(sessionId)) sends.set(sessionId, frame.at);
    }, monotonicMs);
    const engine = createEngine({ runtimeUrl: sim.url, maxConcurrent: 10_000, heartbeatMs: 0 });
    const client = new CopilotClient({ connection: RuntimeConnection.forUri(sim.url) });
    const subject: number[] = [];
    const bare: number[] = [];
    let early: number;
    try {
      await client.start();
      for (let wave = 0; wave < (warmupWaves + waves) * 2; wave++) {
        const useEngine = (wave % 2 === 0) === (Math.floor(wave / 2) % 2 === 0);
        const measured = wave >= warmupWaves * 2;
        if (useEngine) {
          const handles = Array.from({ length: perWave }, (_, i) => engine.start({ repository: { owner: "bench", name: `latency-${wave}-${i}` }, prompts: ["ping"] }));
          const ids = await waitForSends(handles.map((handle) => () => handle.sessionId), sends);
          const starts = await agentStartsOf(sim, ids);
          if (measured) subject.push(...latencies(ids, starts, sends));
          await Promise.all(handles.map((handle: SessionHandle) => handle.close()));
        } else {
          const sessions = await Promise.all(Array.from({ length: perWave }, (_, i) => bareSession(client, `latency-${wave}-${i}`)));
          const ids = await waitForSends(sessions.map((session) => () => session.sessionId), sends);
          const starts = await agentStartsOf(sim, ids);
          if (measured) bare.push(...latencies(ids, starts, sends));
          await Promise.all(sessions.map((session) => session.disconnect().catch(() => undefined)));
        }
      }
      early = (await sim.stats()).promptsDropped;
    } finally {
      tap.stop();
      await engine.close();
      await client.forceStop().catch(() => undefined);
      await sim.close();
    }
    log(`subject p50 ${percentile(subject, 50).toFixed(3)} ms p99 ${percentile(subject, 99).toFixed(3)} ms; bare p50 ${percentile(bare, 50).toFixed(3)} ms p99 ${percentile(bare, 99).toFixed(3)} ms; prompts dropped by the runtime ${early}`);
    return {
      name: "dispatchLatency",
      quick,
      figures: [
        absoluteFigure({ metric: "agent start -> prompt on wire, p50", unit: "ms", subject: percentile(subject, 50), baseline: percentile(bare, 50), baselineLabel: "bare SDK handler", target: null }),
        absoluteFigure({ metric: "agent start -> prompt on wire, p99", unit: "ms", subject: percentile(subject, 99), baseline: percentile(bare, 99), baselineLabel: "bare SDK handler", target: { atMost: 2 } }),
        // A prompt on the wire before the agent's start is dropped by a cloud runtime: a correctness bug.
        absoluteFigure({ metric: "prompts on the wire before agent start", unit: "", subject: subject.filter((ms) => ms < 0).length, baseline: bare.filter((ms) => ms < 0).length, baselineLabel: "bare SDK handler", target: { atMost: 0 } }),
      ],
      details: { waves, warmupWaves, perWave, simulator: "child process", samples: { subject: subject.length, bare: bare.length }, promptsDroppedByRuntime: early, subjectMs: subject, bareMs: bare },
    };
  },
};

async function bareSession(client: CopilotClient, name: string): Promise<CopilotSession> {
  // The handler can run before `createSession` resolves: it reads the session through this holder.
  const holder: { session?: CopilotSession; startedEarly: boolean } = { startedEarly: false };
  const session = await client.createSession({
    streaming: true,
    cloud: { repository: { owner: "bench", name } },
    onPermissionRequest: approveAll,
    onEvent: (event) => {
      if (event.type !== "session.start" || event.data.producer !== AGENT_PRODUCER) return;
      if (holder.session) void holder.session.send({ prompt: "ping" });
      else holder.startedEarly = true;
    },
  });
  holder.session = session;
  if (holder.startedEarly) void session.send({ prompt: "ping" });
  return session;
}

/** Waits until the prompt of every session was seen on the wire (its agent start was written before). */
async function waitForSends(ids: readonly (() => string | null)[], sends: ReadonlyMap<string, number>, timeoutMs = 20_000): Promise<string[]> {
  const started = Date.now();
  const seen = (id: string | null): id is string => id !== null && sends.has(id);
  for (;;) {
    const known = ids.map((id) => id());
    if (known.every(seen)) return known.filter(seen);
    if (Date.now() - started > timeoutMs) throw new Error(`dispatchLatency: ${known.filter((id) => !seen(id)).length} sessions without a prompt on the wire`);
    await tick(2);
  }
}

/** The agent-start times of `ids`, asked of the simulator until it has written every one (a prompt sent too early arrives before its start). */
async function agentStartsOf(sim: SimulatorProcess, ids: readonly string[], timeoutMs = 20_000): Promise<Map<string, number>> {
  const starts = new Map<string, number>();
  const started = Date.now();
  for (;;) {
    for (const [id, at] of await sim.takeAgentStarts()) starts.set(id, at);
    if (ids.every((id) => starts.has(id))) return starts;
    if (Date.now() - started > timeoutMs) throw new Error(`dispatchLatency: ${ids.filter((id) => !starts.has(id)).length} sessions without an agent start`);
    await tick(2);
  }
}

function latencies(ids: readonly string[], starts: ReadonlyMap<string, number>, sends: ReadonlyMap<string, number>): number[] {
  return ids.map((id) => {
    const start = starts.get(id);
    const send = sends.get(id);
    if (start === undefined || send === undefined) throw new Error(`dispatchLatency: no start or send seen for ${id}`);
    return send - start;
  });
}
