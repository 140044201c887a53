import { createEngine, disableNagle, type SessionHandle } from "@cloudsession/engine";
import { AGENT_PRODUCER } from "@cloudsession/machine";
import { approveAll, CopilotClient, RuntimeConnection, type CopilotSession } from "@github/copilot-sdk";
import { absoluteFigure, percentile, tick, type Benchmark, type BenchmarkResult } from "./report.js";
import { startSimulatorProcess, type SimulatorProcess } from "./simulatorProcess.js";
import { gcPausesOn, type GcPause } from "./gcPauses.js";
import { monotonicMs, sessionIdOf, tapWire, tapWireReads } from "./wireTap.js";

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
 *
 * To tell where a slow sample's time went, each is also split at the moment the start frame's
 * bytes reached this process's JavaScript (a socket `data` event): before it, the simulator's
 * process, the kernel and this event loop's earlier work; after it, the client's JSON-RPC queue,
 * the subject's own work and the write. Garbage-collection pauses are recorded too, and a sample
 * counts as paused when one fell inside its window.
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
    // The start frame's arrival in this process, per session (a frame split over two reads is missed).
    const reads = new Map<string, number>();
    const readTap = tapWireReads([`"${AGENT_PRODUCER}"`], (frame) => {
      if (!frame.body.includes('"session.start"')) return;
      const sessionId = sessionIdOf(frame.body);
      if (sessionId !== undefined && !reads.has(sessionId)) reads.set(sessionId, frame.at);
    }, monotonicMs);
    const gc = gcPausesOn(monotonicMs);
    const engine = createEngine({ runtimeUrl: sim.url, maxConcurrent: 10_000, heartbeatMs: 0 });
    const client = new CopilotClient({ connection: RuntimeConnection.forUri(sim.url) });
    const subject: Sample[] = [];
    const bare: Sample[] = [];
    let early: number;
    let pauses: readonly GcPause[] = [];
    try {
      await client.start();
      // The same socket as the engine's client (Nagle off): the comparison is of the engine's work.
      disableNagle(client);
      for (let wave = 0; wave < (warmupWaves + waves) * 2; wave++) {
        const useEngine = (wave % 2 === 0) === (Math.floor(wave / 2) % 2 === 0);
        const measured = wave >= warmupWaves * 2;
        if (useEngine) {
          const handles = Array.from({ length: perWave }, (_, i) => engine.start({ repository: { owner: "bench", name: `latency-${wave}-${i}` }, prompts: ["ping"] }));
          const ids = await waitForSends(handles.map((handle) => () => handle.sessionId), sends);
          const starts = await agentStartsOf(sim, ids);
          if (measured) subject.push(...samplesOf(ids, starts, reads, sends));
          await Promise.all(handles.map((handle: SessionHandle) => handle.close()));
        } else {
          const sessions = await Promise.all(Array.from({ length: perWave }, (_, i) => bareSession(client, `latency-${wave}-${i}`)));
          const ids = await waitForSends(sessions.map((session) => () => session.sessionId), sends);
          const starts = await agentStartsOf(sim, ids);
          if (measured) bare.push(...samplesOf(ids, starts, reads, sends));
          await Promise.all(sessions.map((session) => session.disconnect().catch(() => undefined)));
        }
      }
      early = (await sim.stats()).promptsDropped;
    } finally {
      tap.stop();
      readTap.stop();
      pauses = gc.pauses();
      gc.stop();
      await engine.close();
      await client.forceStop().catch(() => undefined);
      await sim.close();
    }
    const subjectMs = subject.map(totalMs);
    const bareMs = bare.map(totalMs);
    const split = (samples: readonly Sample[]) => {
      const inProcess = samples.filter((sample) => sample.read !== undefined).map((sample) => sample.wire - (sample.read ?? sample.wire));
      const unpaused = samples.filter((sample) => !pausedDuring(sample, pauses)).map(totalMs);
      return { p99InProcessMs: percentile(inProcess, 99), p50InProcessMs: percentile(inProcess, 50), readsMissed: samples.length - inProcess.length, pausedSamples: samples.length - unpaused.length, p99UnpausedMs: percentile(unpaused, 99) };
    };
    const subjectSplit = split(subject);
    const bareSplit = split(bare);
    log(`subject p50 ${percentile(subjectMs, 50).toFixed(3)} ms p99 ${percentile(subjectMs, 99).toFixed(3)} ms; bare p50 ${percentile(bareMs, 50).toFixed(3)} ms p99 ${percentile(bareMs, 99).toFixed(3)} ms; prompts dropped by the runtime ${early}`);
    log(`start read in this process -> prompt on wire: subject p50 ${subjectSplit.p50InProcessMs.toFixed(3)} p99 ${subjectSplit.p99InProcessMs.toFixed(3)} ms, bare p50 ${bareSplit.p50InProcessMs.toFixed(3)} p99 ${bareSplit.p99InProcessMs.toFixed(3)} ms; GC pauses ${pauses.length} (longest ${Math.max(0, ...pauses.map((pause) => pause.ms)).toFixed(1)} ms); samples with a pause inside: subject ${subjectSplit.pausedSamples}, bare ${bareSplit.pausedSamples}`);
    return {
      name: "dispatchLatency",
      quick,
      figures: [
        absoluteFigure({ metric: "agent start -> prompt on wire, p50", unit: "ms", subject: percentile(subjectMs, 50), baseline: percentile(bareMs, 50), baselineLabel: "bare SDK handler", target: null }),
        absoluteFigure({ metric: "agent start -> prompt on wire, p99", unit: "ms", subject: percentile(subjectMs, 99), baseline: percentile(bareMs, 99), baselineLabel: "bare SDK handler", target: { atMost: 2 } }),
        // Diagnostic: the part of each sample spent after the start frame reached this process.
        absoluteFigure({ metric: "start read here -> prompt on wire, p99", unit: "ms", subject: subjectSplit.p99InProcessMs, baseline: bareSplit.p99InProcessMs, baselineLabel: "bare SDK handler", target: null }),
        // A prompt on the wire before the agent's start is dropped by a cloud runtime: a correctness bug.
        absoluteFigure({ metric: "prompts on the wire before agent start", unit: "", subject: subjectMs.filter((ms) => ms < 0).length, baseline: bareMs.filter((ms) => ms < 0).length, baselineLabel: "bare SDK handler", target: { atMost: 0 } }),
      ],
      details: {
        waves,
        warmupWaves,
        perWave,
        simulator: "child process",
        samples: { subject: subject.length, bare: bare.length },
        promptsDroppedByRuntime: early,
        split: { subject: subjectSplit, bare: bareSplit },
        gcPauses: { count: pauses.length, totalMs: pauses.reduce((sum, pause) => sum + pause.ms, 0), longestMs: Math.max(0, ...pauses.map((pause) => pause.ms)) },
        subjectMs,
        bareMs,
        // Per sample, monotonic ms: start written by the simulator, read here, prompt written here.
        subjectSamples: subject,
        bareSamples: bare,
      },
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

/** One session's dispatch, on the monotonic clock: agent start written, read here (if seen), prompt written. */
interface Sample {
  readonly start: number;
  readonly read: number | undefined;
  readonly wire: number;
}

const totalMs = (sample: Sample): number => sample.wire - sample.start;

function pausedDuring(sample: Sample, pauses: readonly GcPause[]): boolean {
  return pauses.some((pause) => pause.at < sample.wire && pause.at + pause.ms > sample.start);
}

function samplesOf(ids: readonly string[], starts: ReadonlyMap<string, number>, reads: ReadonlyMap<string, number>, sends: ReadonlyMap<string, number>): Sample[] {
  return ids.map((id) => {
    const start = starts.get(id);
    const send = sends.get(id);
    if (start === undefined || send === undefined) throw new Error(`dispatchLatency: no start or send seen for ${id}`);
    return { start, read: reads.get(id), wire: send };
  });
}
