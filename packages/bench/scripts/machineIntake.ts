/**
 * What submitting many prompts to one session costs the machine, and what the prompt list costs an
 * ordinary session's replay: a measurement script (issue 21, part 3), not a benchmark of the
 * suite. Run from the worktree root:
 *
 *   pnpm --filter @cloudsession/bench exec tsx --conditions=@cloudsession/source --expose-gc scripts/machineIntake.ts [--sizes 10000,100000] [--xstate] [--compare <index.ts>]
 *
 * 1. intake: a bare session actor (`createSessionActor`, the engine's; `--xstate` adds an XState
 *    actor of the same machine) is reserved, then sent N `prompt.submitted`, each timed: total
 *    time, the longest single `send`, and the garbage collections meanwhile (on a shared host the
 *    longest send is mostly one of them, or the process being descheduled).
 * 2. ordinary sessions: `replay(log)` of 20,000 logs of 3 turns each, and the same events sent one
 *    by one to a live session actor (what the engine does); events per CPU-second, median of 9.
 * 3. one long log: `replay` of the 1,000-turn, ~1,000,000-event log of `replayThroughput`, median of 5.
 *
 * `--compare` loads a second copy of the machine (e.g. main's sources, `git archive main
 * packages/machine/src | tar -x -C packages/bench/.compare`, then `--compare
 * .compare/packages/machine/src/index.ts`) and measures both in the same process, alternating
 * their order each repetition, so that both see the same load on a shared host. It reads only
 * `context.prompts.length`, so it runs on the machine before and after the persistent list.
 */
import { PerformanceObserver } from "node:perf_hooks";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { createActor, type AnyStateMachine } from "xstate";
import * as current from "@cloudsession/machine";
import type { SessionEvent, SessionInput, SessionLogEvent } from "@cloudsession/machine";
import { syntheticSession } from "../src/syntheticLog.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: { sizes: { type: "string", default: "10000,100000" }, xstate: { type: "boolean", default: false }, compare: { type: "string" } },
});
const sizes = values.sizes.split(",").map(Number).filter((count) => count > 0);

interface Sendable {
  send(event: SessionEvent): void;
  getSnapshot(): { readonly context: { readonly prompts: { readonly length: number } } };
}

/** The parts of a machine package this script uses; another copy (`--compare`) has them too. */
interface Machine {
  readonly label: string;
  readonly createSessionActor: (input: SessionInput) => Sendable;
  readonly replay: (log: readonly SessionLogEvent[]) => { readonly context: { readonly prompts: { readonly length: number } } };
  readonly inputFromRequest: typeof current.inputFromRequest;
  readonly sessionMachine: AnyStateMachine;
}

const machines: Machine[] = [{ label: values.compare === undefined ? "this" : "subject", ...current }];
if (values.compare !== undefined) {
  const other = (await import(pathToFileURL(resolve(values.compare)).href)) as Omit<Machine, "label">;
  machines.push({ label: "compared", ...other });
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

interface IntakeResult {
  readonly totalMs: number;
  readonly longestSendMs: number;
  readonly p99SendMs: number;
  readonly sendsOver10Ms: number;
  readonly gcCount: number;
  readonly longestGcMs: number;
}

async function intake(machine: Machine, count: number, kind: "light" | "xstate"): Promise<IntakeResult> {
  const pauses: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauses.push(entry.duration);
  });
  const input: SessionInput = { repository: { owner: "bench", name: "intake" }, settings: current.resolveSettings(), requestedAt: 0 };
  const actor: Sendable = kind === "light" ? machine.createSessionActor(input) : createActor(machine.sessionMachine, { input }).start();
  actor.send({ type: "reservation.succeeded", sessionId: "s1", at: 1 });
  const sends = new Float64Array(count);
  collectGarbage();
  observer.observe({ entryTypes: ["gc"] });
  const started = performance.now();
  for (let index = 0; index < count; index++) {
    const before = performance.now();
    actor.send({ type: "prompt.submitted", promptId: `p${index}`, text: `prompt ${index}`, at: 2 + index });
    sends[index] = performance.now() - before;
  }
  const totalMs = performance.now() - started;
  // GC entries are delivered after the synchronous loop: let them arrive.
  await new Promise((done) => setTimeout(done, 50));
  observer.disconnect();
  const prompts = actor.getSnapshot().context.prompts.length;
  if (prompts !== count) throw new Error(`intake: expected ${count} prompts, the actor has ${prompts}`);
  const sorted = sends.slice().sort();
  return {
    totalMs,
    longestSendMs: sorted[count - 1] ?? 0,
    p99SendMs: sorted[Math.floor(count * 0.99)] ?? 0,
    sendsOver10Ms: sends.filter((ms) => ms > 10).length,
    gcCount: pauses.length,
    longestGcMs: Math.max(0, ...pauses),
  };
}

function median(numbers: readonly number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * Events per second of CPU time (this process's, user and system) of one pass of `fold` over
 * `logs`, each fold checked. CPU time, not wall time: on a shared host the process is descheduled
 * for long stretches, which wall time would count.
 */
function rate(logs: readonly (readonly SessionLogEvent[])[], turns: number, fold: (log: readonly SessionLogEvent[]) => number): number {
  const events = logs.reduce((sum, log) => sum + log.length, 0);
  collectGarbage();
  const started = process.cpuUsage();
  for (const log of logs) if (fold(log) !== turns) throw new Error(`expected ${turns} prompts`);
  const used = process.cpuUsage(started);
  return events / ((used.user + used.system) / 1e6);
}

const folds = {
  replay: (machine: Machine) => (log: readonly SessionLogEvent[]) => machine.replay(log).context.prompts.length,
  "live actor": (machine: Machine) => (log: readonly SessionLogEvent[]) => {
    const [first, ...rest] = log;
    if (first?.type !== "session.requested") throw new Error("bad log");
    const actor = machine.createSessionActor(machine.inputFromRequest(first));
    for (const event of rest) if (event.type !== "session.requested") actor.send(event);
    return actor.getSnapshot().context.prompts.length;
  },
};

/** `repetitions` passes of each fold of each machine, their order rotating; medians by "fold / machine". */
function compareRates(logs: readonly (readonly SessionLogEvent[])[], turns: number, repetitions: number, which: readonly (keyof typeof folds)[]): Map<string, number[]> {
  const rates = new Map<string, number[]>();
  for (let rep = 0; rep < repetitions; rep++) {
    for (const name of which) {
      const order = rep % 2 === 0 ? machines : [...machines].reverse();
      for (const machine of order) {
        const key = `${name} / ${machine.label}`;
        rates.set(key, [...(rates.get(key) ?? []), rate(logs, turns, folds[name](machine))]);
      }
    }
  }
  return rates;
}

function logOf(index: number, turns: number, deltasPerTurn: number): SessionLogEvent[] {
  const session = syntheticSession(index, { turns, deltasPerTurn, ignoredPerTurn: 0 });
  return [session.request, ...session.machineEvents];
}

function print(title: string, rates: Map<string, number[]>): void {
  for (const [key, runs] of rates) console.log(`${title} ${key}: median ${Math.round(median(runs)).toLocaleString("en-US")} ev/CPU-s (${runs.map(Math.round).join(", ")})`);
  // Paired by repetition (both ran back to back): the median of the ratios is the figure to read.
  for (const name of Object.keys(folds)) {
    const subject = rates.get(`${name} / subject`);
    const compared = rates.get(`${name} / compared`);
    if (subject === undefined || compared === undefined) continue;
    const ratios = subject.map((value, index) => value / (compared[index] ?? Number.NaN));
    console.log(`${title} ${name}: subject / compared ${median(ratios).toFixed(2)}x (per repetition ${ratios.map((ratio) => ratio.toFixed(2)).join(", ")})`);
  }
}

// Warm-up (JIT) of every path on small inputs, unmeasured.
const small = Array.from({ length: 20_000 }, (_, index) => logOf(index, 3, 20));
for (const machine of machines) {
  await intake(machine, 2_000, "light");
  if (values.xstate) await intake(machine, 2_000, "xstate");
  rate(small.slice(0, 2_000), 3, folds.replay(machine));
  rate(small.slice(0, 2_000), 3, folds["live actor"](machine));
}

for (const count of sizes) {
  for (const kind of values.xstate ? (["light", "xstate"] as const) : (["light"] as const)) {
    for (const machine of machines) {
      const result = await intake(machine, count, kind);
      console.log(
        `intake ${kind} / ${machine.label} ${count.toLocaleString("en-US")} prompts: total ${result.totalMs.toFixed(0)} ms, longest send ${result.longestSendMs.toFixed(2)} ms, ` +
          `p99 send ${result.p99SendMs.toFixed(3)} ms, ${result.sendsOver10Ms} sends over 10 ms; ${result.gcCount} GCs, longest ${result.longestGcMs.toFixed(1)} ms`,
      );
    }
  }
}

const smallEvents = small.reduce((sum, log) => sum + log.length, 0);
print(`ordinary sessions (20,000 x 3 turns, ${smallEvents.toLocaleString("en-US")} events)`, compareRates(small, 3, 9, ["replay", "live actor"]));
const long = [logOf(0, 1000, 995)];
print(`one long log (1,000 turns, ${(long[0]?.length ?? 0).toLocaleString("en-US")} events)`, compareRates(long, 1000, 5, ["replay"]));
