import { createEngine, type SessionHandle } from "@cloudsession/engine";
import { AGENT_PRODUCER } from "@cloudsession/machine";
import { startSimulator } from "@cloudsession/simulator";
import { approveAll, CopilotClient, RuntimeConnection, type CopilotSession } from "@github/copilot-sdk";
import { absoluteFigure, percentile, tick, type Benchmark, type BenchmarkResult } from "./report.js";
import { sessionIdOf, tapWire } from "./wireTap.js";

/**
 * Benchmark 5: from the agent's `session.start` leaving the simulator's socket to the queued
 * prompt's `session.send` leaving the client's socket. Subject: the engine (prompt queued at
 * `start`); baseline: a bare SDK `onEvent` handler that calls `session.send` on `session.start`.
 * Waves of concurrent sessions alternate between the two.
 */
export const dispatchLatency: Benchmark = {
  name: "dispatchLatency",
  title: "5. agent start to queued prompt on the wire",
  async run({ quick, log }): Promise<BenchmarkResult> {
    const waves = quick ? 2 : 30;
    const perWave = quick ? 5 : 10;
    const sim = await startSimulator({ seed: 5, timeScale: 0.01, defaults: { noise: false, reply: "ok" } });
    const starts = new Map<string, number>();
    const sends = new Map<string, number>();
    const tap = tapWire(['"session.start"', '"session.send"'], (frame) => {
      const sessionId = sessionIdOf(frame.body);
      if (sessionId === undefined) return;
      if (frame.body.includes('"method":"session.send"')) {
        if (!sends.has(sessionId)) sends.set(sessionId, frame.at);
      } else if (frame.body.includes('"method":"session.event"') && frame.body.includes(AGENT_PRODUCER) && !starts.has(sessionId)) {
        starts.set(sessionId, frame.at);
      }
    });
    const engine = createEngine({ runtimeUrl: sim.url, maxConcurrent: 10_000, heartbeatMs: 0 });
    const client = new CopilotClient({ connection: RuntimeConnection.forUri(sim.url) });
    const subject: number[] = [];
    const bare: number[] = [];
    let early: number;
    try {
      await client.start();
      for (let wave = 0; wave < waves * 2; wave++) {
        const useEngine = (wave % 2 === 0) === (Math.floor(wave / 2) % 2 === 0);
        if (useEngine) {
          const handles = Array.from({ length: perWave }, (_, i) => engine.start({ repository: { owner: "bench", name: `latency-${wave}-${i}` }, prompts: ["ping"] }));
          const ids = await waitForSends(handles.map((handle) => () => handle.sessionId), starts, sends);
          subject.push(...latencies(ids, starts, sends));
          await Promise.all(handles.map((handle: SessionHandle) => handle.close()));
        } else {
          const sessions = await Promise.all(Array.from({ length: perWave }, (_, i) => bareSession(client, `latency-${wave}-${i}`)));
          const ids = await waitForSends(sessions.map((session) => () => session.sessionId), starts, sends);
          bare.push(...latencies(ids, starts, sends));
          await Promise.all(sessions.map((session) => session.disconnect().catch(() => undefined)));
        }
      }
      early = [...sim.stats.sessions.values()].reduce((sum, session) => sum + session.promptsDropped.length, 0);
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
      details: { waves, perWave, samples: { subject: subject.length, bare: bare.length }, promptsDroppedByRuntime: early, subjectMs: subject, bareMs: bare },
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

/** Waits until both the agent start and the prompt of every session were seen on the wire. */
async function waitForSends(ids: readonly (() => string | null)[], starts: ReadonlyMap<string, number>, sends: ReadonlyMap<string, number>, timeoutMs = 20_000): Promise<string[]> {
  const started = Date.now();
  const seen = (id: string | null): id is string => id !== null && starts.has(id) && sends.has(id);
  for (;;) {
    const known = ids.map((id) => id());
    if (known.every(seen)) return known.filter(seen);
    if (Date.now() - started > timeoutMs) throw new Error(`dispatchLatency: ${known.filter((id) => !seen(id)).length} sessions without an agent start or a prompt on the wire`);
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
