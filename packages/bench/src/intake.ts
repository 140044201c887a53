import { createEngine } from "@cloudsession/engine";
import { startSimulator } from "@cloudsession/simulator";
import { NO_STREAM, type EventStore, type ExpectedVersion, type NewEvent } from "@cloudsession/store";
import { randomUUID } from "node:crypto";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { gcPausesOn } from "./gcPauses.js";
import { openBenchStore, type BenchStoreKind } from "./benchStores.js";
import { absoluteFigure, collectGarbage, median, ratioFigure, tick, type Benchmark, type BenchmarkResult, type Figure } from "./report.js";

export interface IntakeSizes {
  /** Prompts sent into one session, `batch` at a time (each batch awaited whole, as a busy caller would). */
  readonly prompts: number;
  readonly batch: number;
  /** Prompts sent one after another, each awaited before the next. */
  readonly sequential: number;
  /** Alternating rounds per store (the side that goes first swaps each round); the median is reported. */
  readonly rounds: number;
  /** Prompts of an unmeasured first run of each side per store. */
  readonly warmup: number;
}

/** One timed run: wall time, the process's CPU time (less moved by a busy host), and the event loop's delays meanwhile. */
interface Timed {
  readonly ms: number;
  readonly cpuMs: number;
  readonly stallMs: number;
  readonly delayP99Ms: number;
  /** The longest garbage-collection pause meanwhile: how much of the stall is the collector's. */
  readonly longestGcMs: number;
}

interface StoreRounds {
  readonly concurrent: Timed[];
  readonly straight: Timed[];
  readonly sequential: Timed[];
  readonly straightOneByOne: Timed[];
}

/** The engine writes at most this many prompts per append (sessionRunner's group commit); the straight appends do the same. */
const PROMPTS_PER_APPEND = 500;

/**
 * Benchmark 9 (issue 21): 100,000 prompts into one session through `await handle.send()`, until
 * every one is acknowledged, so in the log. Baseline: the same number of `prompt.submitted` events
 * appended straight to the same store in the same run, 500 per append (the engine's own append
 * size). The session's agent never connects, so every prompt stays queued (the limit is raised for
 * it). Also the longest event-loop stall meanwhile, and sends awaited one by one against one-event
 * appends awaited one by one.
 */
export const intake: Benchmark = {
  name: "intake",
  title: "9. intake: 100,000 prompts into one session vs appending them straight to the store",
  async run({ quick, log }): Promise<BenchmarkResult> {
    const sizes: IntakeSizes = quick ? { prompts: 1_000, batch: 100, sequential: 100, rounds: 1, warmup: 0 } : { prompts: 100_000, batch: 1_000, sequential: 2_000, rounds: 3, warmup: 10_000 };
    return { name: "intake", quick, ...(await measureIntake(["memory", "PGlite", "PostgreSQL"], sizes, log)) };
  },
};

/** The benchmark at any size, on the stores given (also for a comparison against an older engine). */
export async function measureIntake(kinds: readonly BenchStoreKind[], sizes: IntakeSizes, log: (message: string) => void): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const sim = await startSimulator({ seed: 9, timeScale: 0.01, defaults: { agentNeverConnects: true, noise: false } });
  const figures: Figure[] = [];
  const details: Record<string, unknown> = { sizes, promptsPerAppend: PROMPTS_PER_APPEND, eventLoopDelayResolutionMs: 1 };
  try {
    for (const kind of kinds) {
      const rounds = await measureStore(kind, sim.url, sizes, log);
      figures.push(...toFigures(kind, rounds, sizes));
      details[kind] = rounds;
    }
  } finally {
    await sim.close();
  }
  return { figures, details };
}

function toFigures(label: string, rounds: StoreRounds, sizes: IntakeSizes): Figure[] {
  const ms = (runs: readonly Timed[]) => median(runs.map((run) => run.ms));
  const stall = (runs: readonly Timed[]) => Math.max(...runs.map((run) => run.stallMs));
  return [
    ratioFigure({ metric: `${label}: ${sizes.prompts} sends, ${sizes.batch} at a time, until all acknowledged`, unit: "ms", subject: ms(rounds.concurrent), baseline: ms(rounds.straight), baselineLabel: `straight appends of ${PROMPTS_PER_APPEND}`, target: { atMost: 2 } }),
    ratioFigure({ metric: `${label}: the same, process CPU time`, unit: "ms", subject: median(rounds.concurrent.map((run) => run.cpuMs)), baseline: median(rounds.straight.map((run) => run.cpuMs)), baselineLabel: "straight appends", target: null }),
    absoluteFigure({ metric: `${label}: longest event-loop stall during those sends (any round)`, unit: "ms", subject: stall(rounds.concurrent), baseline: stall(rounds.straight), baselineLabel: "straight appends", target: { atMost: 50 } }),
    ratioFigure({ metric: `${label}: ${sizes.sequential} sends, each awaited`, unit: "ms", subject: ms(rounds.sequential), baseline: ms(rounds.straightOneByOne), baselineLabel: "1-event appends, each awaited", target: null }),
  ];
}

async function measureStore(kind: BenchStoreKind, runtimeUrl: string, sizes: IntakeSizes, log: (message: string) => void): Promise<StoreRounds> {
  const opened = await openBenchStore(kind);
  const rounds: StoreRounds = { concurrent: [], straight: [], sequential: [], straightOneByOne: [] };
  try {
    const { store } = opened;
    // Unmeasured: JIT, prepared statements and an engine's first session warm up on both sides.
    if (sizes.warmup > 0) {
      await engineSends(runtimeUrl, store, sizes.warmup, sizes.batch);
      await straightAppends(store, "warm-up", sizes.warmup, PROMPTS_PER_APPEND);
    }
    for (let round = 0; round < sizes.rounds; round++) {
      const runs: (() => Promise<void>)[] = [
        async () => void rounds.concurrent.push(await engineSends(runtimeUrl, store, sizes.prompts, sizes.batch)),
        async () => void rounds.straight.push(await straightAppends(store, `straight-${round}`, sizes.prompts, PROMPTS_PER_APPEND)),
        async () => void rounds.sequential.push(await engineSends(runtimeUrl, store, sizes.sequential, 1)),
        async () => void rounds.straightOneByOne.push(await straightAppends(store, `one-by-one-${round}`, sizes.sequential, 1)),
      ];
      // Odd rounds run the baselines first: no side always meets a warm (or a full) store.
      const order = round % 2 === 0 ? [0, 1, 2, 3] : [1, 0, 3, 2];
      for (const index of order) {
        await opened.settle();
        collectGarbage();
        await runs[index]?.();
      }
    }
  } finally {
    await opened.close();
  }
  const show = (runs: readonly Timed[]) => runs.map((run) => `${run.ms.toFixed(0)} ms (CPU ${run.cpuMs.toFixed(0)}, stall ${run.stallMs.toFixed(1)}, GC ${run.longestGcMs.toFixed(1)})`).join(", ");
  log(`${kind}: sends ${show(rounds.concurrent)}; straight ${show(rounds.straight)}; awaited one by one ${show(rounds.sequential)}; 1-event appends ${show(rounds.straightOneByOne)}`);
  return rounds;
}

const promptText = (i: number): string => `prompt ${i}: summarise the README and list what changed since the last release`;

/** A fresh engine and session; `count` sends, `batch` in flight at a time; checks every prompt is in the log. */
async function engineSends(runtimeUrl: string, store: EventStore, count: number, batch: number): Promise<Timed> {
  // heartbeatMs 0: a ping is no part of intake, and a long stall would have it replace the connection.
  const engine = createEngine({ runtimeUrl, store, heartbeatMs: 0, limits: { maxQueuedPrompts: count }, timeouts: { agentStartTimeoutMs: 3_600_000 } });
  try {
    const handle = await engine.start({ repository: { owner: "bench", name: "intake" } });
    const timed = await timedWithStalls(async () => {
      for (let offset = 0; offset < count; offset += batch) {
        const size = Math.min(batch, count - offset);
        if (size === 1) await handle.send(promptText(offset));
        else await Promise.all(Array.from({ length: size }, (_, i) => handle.send(promptText(offset + i))));
        if ((offset + size) % YIELD_EVERY === 0 || size > 1) await yieldToLoop();
      }
    });
    const { events } = await store.readStream(handle.id);
    const submitted = events.filter((event) => event.type === "prompt.submitted").length;
    // Queued, none dispatched: the agent never connects (still reserving when the sends beat the create).
    if (submitted !== count || !(handle.state === "reserving" || handle.state === "awaiting-agent")) throw new Error(`intake: ${submitted} of ${count} prompts in the log, session ${handle.state}`);
    return timed;
  } finally {
    // Detach: nothing is written for the queued prompts, the next round starts on a quiet engine.
    await engine.close();
  }
}

/** `count` `prompt.submitted` events appended to a new stream, `perAppend` at a time, each append awaited. */
async function straightAppends(store: EventStore, streamId: string, count: number, perAppend: number): Promise<Timed> {
  return timedWithStalls(async () => {
    let expectedVersion: ExpectedVersion = NO_STREAM;
    for (let offset = 0; offset < count; offset += perAppend) {
      const events: NewEvent[] = [];
      for (let i = offset; i < Math.min(count, offset + perAppend); i++) events.push({ type: "prompt.submitted", data: { promptId: randomUUID(), text: promptText(i), at: Date.now() } });
      expectedVersion = (await store.append(streamId, events, { expectedVersion })).nextExpectedVersion;
      if (events.length > 1 || (offset + 1) % YIELD_EVERY === 0) await yieldToLoop();
    }
  });
}

/**
 * A caller's requests arrive through I/O, so it yields to the event loop between batches (and every
 * {@link YIELD_EVERY} awaited sends); both sides do the same. Without it an in-memory store's appends
 * resolve as microtasks and the whole run is one turn of the loop, which no timer can measure.
 */
const YIELD_EVERY = 100;
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Wall time of `work`, and the longest event-loop delay meanwhile (1 ms resolution). */
async function timedWithStalls(work: () => Promise<void>): Promise<Timed> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const gc = gcPausesOn(() => performance.now());
  let ms: number;
  let cpu: NodeJS.CpuUsage;
  let longestGcMs: number;
  try {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await work();
    ms = performance.now() - started;
    cpu = process.cpuUsage(cpuBefore);
    // The monitor's timer records a stall when it fires after it: let it fire once more.
    await tick(2);
  } finally {
    delay.disable();
    longestGcMs = Math.max(0, ...gc.pauses().map((pause) => pause.ms));
    gc.stop();
  }
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, stallMs: delay.max / 1e6, delayP99Ms: delay.percentile(99) / 1e6, longestGcMs };
}
