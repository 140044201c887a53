import { createEngine, disableNagle, type SessionHandle } from "@cloudsession/engine";
import { AGENT_PRODUCER } from "@cloudsession/machine";
import { approveAll, CopilotClient, RuntimeConnection, type CopilotSession } from "@github/copilot-sdk";
import { absoluteFigure, percentile, tick, type Benchmark, type BenchmarkResult } from "./report.js";
import { startSimulatorProcess, type SimulatorProcess } from "./simulatorProcess.js";
import { gcPausesOn, type GcPause } from "./gcPauses.js";
import { monotonicMs, sessionIdOf, tapWire, tapWireReads } from "./wireTap.js";
import { tapSdkSessions } from "./sdkTap.js";
import { describeHostCpu, hostCpuBetween, sampleHostCpu, type HostCpuShare } from "./hostCpu.js";

/**
 * Benchmark 5: from the agent's `session.start` leaving the simulator's socket to the queued
 * prompt's `session.send` leaving the client's socket. Subject: the engine (prompt queued at
 * `start`); baseline: a bare SDK `onEvent` handler that calls `session.send` on `session.start`.
 * Waves of 10 sessions started together alternate between the two.
 *
 * Two phases, each with its own simulator: `spaced`, where a wave's agents connect 100-200 ms after
 * their reservation (the real runtime takes 1-2 s; ten times denser than that), and `burst`, where
 * they connect 10-20 ms after it, so ten starts land within ~10 ms and queue behind each other in
 * the client. The target applies to both; the burst mostly measures that queue, the bare SDK's
 * included.
 *
 * The simulator runs in its own process, as the real runtime does (the SDK spawns it): in one
 * process its work would sit in the same event-loop queue as the dispatch being measured. Both
 * sides stamp their writes with the system's monotonic clock. The first waves of each side warm up
 * the code paths (JIT) and are not measured: a service that dispatches prompts runs warm.
 *
 * To tell where a slow sample's time went, each is split at three more moments: the start frame's
 * bytes reaching this process's JavaScript (a socket `data` event), the SDK handing the event to
 * the session's handlers, and `session.send` being called. Between the last two is only the
 * subject's own work (the engine: machine, log append, dispatch intent); the rest is the simulator,
 * the kernel, the SDK's JSON-RPC queue and writer, and this event loop's other work. Garbage-
 * collection pauses are recorded too, and a sample counts as paused when one fell inside it.
 */
export const dispatchLatency: Benchmark = {
  name: "dispatchLatency",
  title: "5. agent start to queued prompt on the wire",
  async run({ quick, log }): Promise<BenchmarkResult> {
    const sizes: Sizes = { waves: quick ? 2 : 100, warmupWaves: quick ? 0 : 5, perWave: quick ? 5 : 10 };
    const spaced = await measurePhase({ name: "spaced", timeScale: 0.1 }, sizes, log);
    const burst = await measurePhase({ name: "burst", timeScale: 0.01 }, sizes, log);
    const own = (phase: PhaseResult, side: "subject" | "bare") => ownWorkMs(phase[side]);
    const allOwn = { subject: [...own(spaced, "subject"), ...own(burst, "subject")], bare: [...own(spaced, "bare"), ...own(burst, "bare")] };
    const early = (phase: PhaseResult, side: "subject" | "bare") => phase[side].filter((sample) => totalMs(sample) < 0).length;
    return {
      name: "dispatchLatency",
      quick,
      figures: [
        absoluteFigure({ metric: "agent start -> prompt on wire, p50 (spaced starts)", unit: "ms", subject: percentile(spaced.subject.map(totalMs), 50), baseline: percentile(spaced.bare.map(totalMs), 50), baselineLabel: "bare SDK handler", target: null }),
        absoluteFigure({ metric: "agent start -> prompt on wire, p99 (spaced starts)", unit: "ms", subject: percentile(spaced.subject.map(totalMs), 99), baseline: percentile(spaced.bare.map(totalMs), 99), baselineLabel: "bare SDK handler", target: { atMost: 2 } }),
        absoluteFigure({ metric: "agent start -> prompt on wire, p99 (burst of 10 in ~10 ms)", unit: "ms", subject: percentile(burst.subject.map(totalMs), 99), baseline: percentile(burst.bare.map(totalMs), 99), baselineLabel: "bare SDK handler", target: { atMost: 2 } }),
        // Diagnostic: the subject's own part of each sample, from the SDK's hand-over to the send call.
        absoluteFigure({ metric: "start handed over by the SDK -> send called, p99 (both phases)", unit: "ms", subject: percentile(allOwn.subject, 99), baseline: percentile(allOwn.bare, 99), baselineLabel: "bare SDK handler", target: null }),
        // A prompt on the wire before the agent's start is dropped by a cloud runtime: a correctness bug.
        absoluteFigure({ metric: "prompts on the wire before agent start", unit: "", subject: early(spaced, "subject") + early(burst, "subject"), baseline: early(spaced, "bare") + early(burst, "bare"), baselineLabel: "bare SDK handler", target: { atMost: 0 } }),
      ],
      details: { ...sizes, simulator: "child process", spaced: phaseDetails(spaced), burst: phaseDetails(burst) },
    };
  },
};

interface Sizes {
  readonly waves: number;
  readonly warmupWaves: number;
  readonly perWave: number;
}

interface Phase {
  readonly name: "spaced" | "burst";
  /** The simulator's time scale: its agents connect 1-2 s (simulated) after the reservation. */
  readonly timeScale: number;
}

interface PhaseResult {
  readonly phase: Phase;
  readonly subject: readonly Sample[];
  readonly bare: readonly Sample[];
  readonly pauses: readonly GcPause[];
  /** Prompts the simulator received before their session's agent started (and dropped). */
  readonly promptsDropped: number;
  /** The host's CPU time during the phase: stolen time shows up in both sides' tails. */
  readonly hostCpu: HostCpuShare | undefined;
}

async function measurePhase(phase: Phase, sizes: Sizes, log: (message: string) => void): Promise<PhaseResult> {
  const { waves, warmupWaves, perWave } = sizes;
  const sim = await startSimulatorProcess({ seed: 5, timeScale: phase.timeScale, defaults: { noise: false, reply: "ok" } });
  const moments = { read: new Map<string, number>(), handed: new Map<string, number>(), called: new Map<string, number>(), wire: new Map<string, number>() };
  const first = (map: Map<string, number>, sessionId: string | undefined, at: number): void => {
    if (sessionId !== undefined && !map.has(sessionId)) map.set(sessionId, at);
  };
  const tap = tapWire(['"session.send"'], (frame) => first(moments.wire, sessionIdOf(frame.body), frame.at), monotonicMs);
  // The start frame's arrival in this process, per session (a frame split over two reads is missed).
  const readTap = tapWireReads([`"${AGENT_PRODUCER}"`], (frame) => {
    if (frame.body.includes('"session.start"')) first(moments.read, sessionIdOf(frame.body), frame.at);
  }, monotonicMs);
  const sdkTap = tapSdkSessions((event) => event.type === "session.start" && event.data.producer === AGENT_PRODUCER, {
    handedOver: (sessionId, at) => first(moments.handed, sessionId, at),
    sendCalled: (sessionId, at) => first(moments.called, sessionId, at),
  }, monotonicMs);
  const gc = gcPausesOn(monotonicMs);
  const cpuBefore = sampleHostCpu();
  const engine = createEngine({ runtimeUrl: sim.url, maxConcurrent: 10_000, heartbeatMs: 0 });
  const client = new CopilotClient({ connection: RuntimeConnection.forUri(sim.url) });
  const subject: Sample[] = [];
  const bare: Sample[] = [];
  let promptsDropped: number;
  let pauses: readonly GcPause[];
  try {
    await client.start();
    // The same socket as the engine's client (Nagle off): the comparison is of the engine's work.
    disableNagle(client);
    for (let wave = 0; wave < (warmupWaves + waves) * 2; wave++) {
      const useEngine = (wave % 2 === 0) === (Math.floor(wave / 2) % 2 === 0);
      const measured = wave >= warmupWaves * 2;
      const name = (i: number) => `latency-${phase.name}-${wave}-${i}`;
      if (useEngine) {
        const handles = await Promise.all(Array.from({ length: perWave }, (_, i) => engine.start({ repository: { owner: "bench", name: name(i) }, prompts: ["ping"] })));
        const ids = await waitForSends(handles.map((handle) => () => handle.sessionId), moments.wire);
        const starts = await agentStartsOf(sim, ids);
        if (measured) subject.push(...samplesOf(ids, starts, moments));
        await Promise.all(handles.map((handle: SessionHandle) => handle.close()));
      } else {
        const sessions = await Promise.all(Array.from({ length: perWave }, (_, i) => bareSession(client, name(i))));
        const ids = await waitForSends(sessions.map((session) => () => session.sessionId), moments.wire);
        const starts = await agentStartsOf(sim, ids);
        if (measured) bare.push(...samplesOf(ids, starts, moments));
        await Promise.all(sessions.map((session) => session.disconnect().catch(() => undefined)));
      }
    }
    promptsDropped = (await sim.stats()).promptsDropped;
  } finally {
    tap.stop();
    readTap.stop();
    sdkTap.stop();
    pauses = gc.pauses();
    gc.stop();
    await engine.close();
    await client.forceStop().catch(() => undefined);
    await sim.close();
  }
  const result: PhaseResult = { phase, subject, bare, pauses, promptsDropped, hostCpu: hostCpuBetween(cpuBefore, sampleHostCpu()) };
  const p = (samples: readonly Sample[], q: number) => percentile(samples.map(totalMs), q).toFixed(3);
  const own = (samples: readonly Sample[], q: number) => percentile(ownWorkMs(samples), q).toFixed(3);
  log(`${phase.name}: subject p50 ${p(subject, 50)} ms p99 ${p(subject, 99)} ms; bare p50 ${p(bare, 50)} ms p99 ${p(bare, 99)} ms; own work (hand-over -> send call) p50/p99 subject ${own(subject, 50)}/${own(subject, 99)} ms, bare ${own(bare, 50)}/${own(bare, 99)} ms; GC pauses ${pauses.length}; prompts dropped by the runtime ${promptsDropped}; ${describeHostCpu(result.hostCpu)}`);
  return result;
}

/** Per-phase details for the JSON report: percentiles of every segment, GC, and the raw samples. */
function phaseDetails(result: PhaseResult): Record<string, unknown> {
  const segments = (samples: readonly Sample[]) => {
    const of = (from: keyof Sample, to: keyof Sample) => samples.flatMap((sample) => (sample[from] === undefined || sample[to] === undefined ? [] : [(sample[to] ?? 0) - (sample[from] ?? 0)]));
    const summary = (values: readonly number[]) => ({ p50Ms: percentile(values, 50), p99Ms: percentile(values, 99), samples: values.length });
    const unpaused = samples.filter((sample) => !pausedDuring(sample, result.pauses));
    return {
      total: summary(samples.map(totalMs)),
      // Simulator, kernel and this event loop's earlier work; then the SDK's JSON-RPC queue; the
      // subject's own work; the SDK's request writer.
      startToRead: summary(of("start", "read")),
      readToHandedOver: summary(of("read", "handed")),
      handedOverToSendCalled: summary(of("handed", "called")),
      sendCalledToWire: summary(of("called", "wire")),
      pausedSamples: samples.length - unpaused.length,
      unpausedTotal: summary(unpaused.map(totalMs)),
    };
  };
  return {
    timeScale: result.phase.timeScale,
    samples: { subject: result.subject.length, bare: result.bare.length },
    promptsDroppedByRuntime: result.promptsDropped,
    hostCpu: result.hostCpu ?? null,
    subject: segments(result.subject),
    bare: segments(result.bare),
    gcPauses: { count: result.pauses.length, totalMs: result.pauses.reduce((sum, pause) => sum + pause.ms, 0), longestMs: Math.max(0, ...result.pauses.map((pause) => pause.ms)) },
    // Per sample, monotonic ms: start written by the simulator, read here, handed over, send called, prompt written.
    subjectSamples: result.subject,
    bareSamples: result.bare,
  };
}

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

/** One session's dispatch, on the monotonic clock: agent start written, read here, handed over by the SDK, send called (each if seen), prompt written. */
interface Sample {
  readonly start: number;
  readonly read: number | undefined;
  readonly handed: number | undefined;
  readonly called: number | undefined;
  readonly wire: number;
}

const totalMs = (sample: Sample): number => sample.wire - sample.start;

/** The subject's own part of each sample that has both moments. */
function ownWorkMs(samples: readonly Sample[]): number[] {
  return samples.flatMap((sample) => (sample.handed === undefined || sample.called === undefined ? [] : [sample.called - sample.handed]));
}

function pausedDuring(sample: Sample, pauses: readonly GcPause[]): boolean {
  return pauses.some((pause) => pause.at < sample.wire && pause.at + pause.ms > sample.start);
}

function samplesOf(ids: readonly string[], starts: ReadonlyMap<string, number>, moments: Readonly<Record<"read" | "handed" | "called" | "wire", ReadonlyMap<string, number>>>): Sample[] {
  return ids.map((id) => {
    const start = starts.get(id);
    const wire = moments.wire.get(id);
    if (start === undefined || wire === undefined) throw new Error(`dispatchLatency: no start or send seen for ${id}`);
    return { start, read: moments.read.get(id), handed: moments.handed.get(id), called: moments.called.get(id), wire };
  });
}
