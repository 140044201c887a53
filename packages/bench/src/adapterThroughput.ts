import { inputFromRequest, sessionMachine, type SessionEvent } from "@cloudsession/machine";
import { toMachineEvents, type RawSessionEvent } from "@cloudsession/rx";
import { Subject } from "rxjs";
import { createActor } from "xstate";
import { median, ratioFigure, type Benchmark, type BenchmarkResult } from "./report.js";
import { syntheticSession, type SyntheticSession } from "./syntheticLog.js";

/**
 * Benchmark 1: raw SDK events through `toMachineEvents` (dedupe, map, filter) into a session actor,
 * against a bare XState actor of the same machine receiving the already-mapped events. Both sides
 * also get the engine's own events (prompt.*), sent straight to the actor.
 */
export const adapterThroughput: Benchmark = {
  name: "adapterThroughput",
  title: "1. adapter + machine event throughput vs a bare XState actor",
  async run({ quick, log }): Promise<BenchmarkResult> {
    const sessions = quick ? 4 : 40;
    const shape = { turns: 20, deltasPerTurn: 200, ignoredPerTurn: 4 };
    const repetitions = quick ? 3 : 7;
    const script = Array.from({ length: sessions }, (_, index) => syntheticSession(index, shape));
    const machineEvents = script.reduce((sum, session) => sum + session.machineEvents.length, 0);
    const rawEvents = script.reduce((sum, session) => sum + session.steps.filter((step) => step.kind === "sdk").length, 0);
    const bare: number[] = [];
    const adapter: number[] = [];
    // Warm both paths so neither pays JIT compilation inside a measured repetition.
    runBare(script.slice(0, 2));
    runAdapter(script.slice(0, 2));
    for (let rep = 0; rep < repetitions; rep++) {
      // Alternate the order to cancel drift (thermal, other tenants on the machine).
      if (rep % 2 === 0) {
        bare.push(machineEvents / runBare(script));
        adapter.push(machineEvents / runAdapter(script));
      } else {
        adapter.push(machineEvents / runAdapter(script));
        bare.push(machineEvents / runBare(script));
      }
      await Promise.resolve();
    }
    log(`adapter ${adapter.map(Math.round).join(", ")} ev/s; bare ${bare.map(Math.round).join(", ")} ev/s`);
    return {
      name: "adapterThroughput",
      quick,
      figures: [
        ratioFigure({ metric: "machine events/s through the adapter", unit: "ev/s", subject: median(adapter), baseline: median(bare), baselineLabel: "bare actor", target: { atLeast: 0.5 } }),
      ],
      details: { sessions, shape, machineEvents, rawEvents, repetitions, adapterEventsPerSecond: adapter, bareEventsPerSecond: bare },
    };
  },
};

/** Seconds to feed every session's machine events to a bare actor. */
function runBare(script: readonly SyntheticSession[]): number {
  const started = performance.now();
  for (const session of script) {
    const actor = createActor(sessionMachine, { input: inputFromRequest(session.request) });
    actor.start();
    for (const event of session.machineEvents) actor.send(event);
    check(actor.getSnapshot().context.prompts.length, session);
    actor.stop();
  }
  return (performance.now() - started) / 1000;
}

/** Seconds to feed every session's raw SDK events through the adapter (and engine events direct). */
function runAdapter(script: readonly SyntheticSession[]): number {
  const started = performance.now();
  for (const session of script) {
    const actor = createActor(sessionMachine, { input: inputFromRequest(session.request) });
    actor.start();
    let now = session.request.at;
    const sdk = new Subject<RawSessionEvent>();
    const subscription = sdk.pipe(toMachineEvents({ now: () => ++now })).subscribe((event: SessionEvent) => actor.send(event));
    for (const step of session.steps) {
      if (step.kind === "engine") actor.send(step.event);
      else sdk.next(step.raw);
    }
    subscription.unsubscribe();
    check(actor.getSnapshot().context.prompts.length, session);
    actor.stop();
  }
  return (performance.now() - started) / 1000;
}

function check(prompts: number, session: SyntheticSession): void {
  const expected = session.machineEvents.filter((event) => event.type === "prompt.submitted").length;
  if (prompts !== expected) throw new Error(`adapterThroughput: expected ${expected} prompts, the actor has ${prompts}`);
}
