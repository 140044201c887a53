import { inputFromRequest, replay, sessionMachine, type SessionLogEvent } from "@cloudsession/machine";
import { createActor } from "xstate";
import { absoluteFigure, median, type Benchmark, type BenchmarkResult } from "./report.js";
import { syntheticSession } from "./syntheticLog.js";

/**
 * Benchmark 6b: `replay(log)` of one long session log (persisted deltas: ~1,000 events per turn)
 * against a bare XState actor of the same machine receiving the same events.
 */
export const replayThroughput: Benchmark = {
  name: "replayThroughput",
  title: "6b. replay of a 1,000,000-event log vs a bare XState actor",
  async run({ quick, log }): Promise<BenchmarkResult> {
    const turns = quick ? 20 : 1000;
    const session = syntheticSession(0, { turns, deltasPerTurn: 995, ignoredPerTurn: 0 });
    const events: readonly SessionLogEvent[] = [session.request, ...session.machineEvents];
    const repetitions = quick ? 2 : 3;
    const subject: number[] = [];
    const bare: number[] = [];
    // Warm-up on a slice: the first pass through XState's code runs unoptimised.
    const warm = events.slice(0, 50_000);
    replay(warm);
    bareFold(warm);
    for (let rep = 0; rep < repetitions; rep++) {
      const order = rep % 2 === 0 ? ["subject", "bare"] : ["bare", "subject"];
      for (const which of order) {
        const started = performance.now();
        const prompts = which === "subject" ? replay(events).context.prompts.length : bareFold(events);
        const seconds = (performance.now() - started) / 1000;
        if (prompts !== turns) throw new Error(`replay: expected ${turns} prompts, got ${prompts}`);
        (which === "subject" ? subject : bare).push(events.length / seconds);
        await Promise.resolve();
      }
    }
    log(`replay ${subject.map(Math.round).join(", ")} ev/s; bare ${bare.map(Math.round).join(", ")} ev/s`);
    return {
      name: "replayThroughput",
      quick,
      figures: [
        absoluteFigure({ metric: `replay(log) of ${events.length.toLocaleString("en-US")} events`, unit: "ev/s", subject: median(subject), baseline: median(bare), baselineLabel: "bare actor", target: { atLeast: 250_000 } }),
      ],
      details: { events: events.length, turns, repetitions, replayEventsPerSecond: subject, bareEventsPerSecond: bare },
    };
  },
};

/** The same fold without replay's checks: createActor, send each event, read the snapshot. */
function bareFold(events: readonly SessionLogEvent[]): number {
  const [first, ...rest] = events;
  if (first?.type !== "session.requested") throw new Error("bad log");
  const actor = createActor(sessionMachine, { input: inputFromRequest(first) });
  actor.start();
  for (const event of rest) if (event.type !== "session.requested") actor.send(event);
  const prompts = actor.getSnapshot().context.prompts.length;
  actor.stop();
  return prompts;
}
