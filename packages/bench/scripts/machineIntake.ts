/**
 * What submitting many prompts to one session costs the machine, and what the prompt list costs an
 * ordinary session's replay: a measurement script (issue 21, part 3), not a benchmark of the
 * suite. Run from the worktree root, on two commits to compare them:
 *
 *   pnpm --filter @cloudsession/bench exec tsx --conditions=@cloudsession/source --expose-gc scripts/machineIntake.ts [--sizes 10000,100000] [--xstate]
 *
 * 1. intake: a bare session actor (`createSessionActor`, the engine's; `--xstate` adds an XState
 *    actor of the same machine) is reserved, then sent N `prompt.submitted`, each timed: total
 *    time and the longest single `send`.
 * 2. ordinary sessions: `replay(log)` of 20,000 logs of 3 turns each, and the same events sent one
 *    by one to a live session actor (what the engine does); median of 5, rotating order.
 * 3. one long log: `replay` of the 1,000-turn, ~1,000,000-event log of `replayThroughput`.
 *
 * It reads only `context.prompts.length`, so it runs unchanged before and after the persistent list.
 */
import { parseArgs } from "node:util";
import { createActor } from "xstate";
import { createSessionActor, inputFromRequest, replay, resolveSettings, sessionMachine, type SessionEvent, type SessionInput, type SessionLogEvent } from "@cloudsession/machine";
import { syntheticSession } from "../src/syntheticLog.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: { sizes: { type: "string", default: "10000,100000" }, xstate: { type: "boolean", default: false } },
});
const sizes = values.sizes.split(",").map(Number).filter((count) => count > 0);

interface Sendable {
  send(event: SessionEvent): void;
  getSnapshot(): { readonly context: { readonly prompts: { readonly length: number } } };
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function intake(count: number, kind: "light" | "xstate"): { totalMs: number; longestSendMs: number; p99SendMs: number } {
  const input: SessionInput = { repository: { owner: "bench", name: "intake" }, settings: resolveSettings(), requestedAt: 0 };
  const actor: Sendable = kind === "light" ? createSessionActor(input) : createActor(sessionMachine, { input }).start();
  actor.send({ type: "reservation.succeeded", sessionId: "s1", at: 1 });
  const sends = new Float64Array(count);
  collectGarbage();
  const started = performance.now();
  for (let index = 0; index < count; index++) {
    const before = performance.now();
    actor.send({ type: "prompt.submitted", promptId: `p${index}`, text: `prompt ${index}`, at: 2 + index });
    sends[index] = performance.now() - before;
  }
  const totalMs = performance.now() - started;
  const prompts = actor.getSnapshot().context.prompts.length;
  if (prompts !== count) throw new Error(`intake: expected ${count} prompts, the actor has ${prompts}`);
  const sorted = sends.slice().sort();
  return { totalMs, longestSendMs: sorted[count - 1] ?? 0, p99SendMs: sorted[Math.floor(count * 0.99)] ?? 0 };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Events per second of `fold` over `logs`, median of `repetitions`, each fold checked. */
function throughput(logs: readonly (readonly SessionLogEvent[])[], turns: number, repetitions: number, fold: (log: readonly SessionLogEvent[]) => number): { median: number; runs: number[] } {
  const events = logs.reduce((sum, log) => sum + log.length, 0);
  const runs: number[] = [];
  for (let rep = 0; rep < repetitions; rep++) {
    collectGarbage();
    const started = performance.now();
    for (const log of logs) if (fold(log) !== turns) throw new Error(`expected ${turns} prompts`);
    runs.push(events / ((performance.now() - started) / 1000));
  }
  return { median: median(runs), runs: runs.map(Math.round) };
}

function liveFold(log: readonly SessionLogEvent[]): number {
  const [first, ...rest] = log;
  if (first?.type !== "session.requested") throw new Error("bad log");
  const actor = createSessionActor(inputFromRequest(first));
  for (const event of rest) if (event.type !== "session.requested") actor.send(event);
  return actor.getSnapshot().context.prompts.length;
}

const replayFold = (log: readonly SessionLogEvent[]): number => replay(log).context.prompts.length;

function logOf(index: number, turns: number, deltasPerTurn: number): SessionLogEvent[] {
  const session = syntheticSession(index, { turns, deltasPerTurn, ignoredPerTurn: 0 });
  return [session.request, ...session.machineEvents];
}

// Warm-up (JIT) of every path on small inputs, unmeasured.
intake(2_000, "light");
if (values.xstate) intake(2_000, "xstate");
const small = Array.from({ length: 20_000 }, (_, index) => logOf(index, 3, 20));
throughput(small.slice(0, 2_000), 3, 1, replayFold);
throughput(small.slice(0, 2_000), 3, 1, liveFold);

for (const count of sizes) {
  for (const kind of values.xstate ? (["light", "xstate"] as const) : (["light"] as const)) {
    const result = intake(count, kind);
    console.log(`intake ${kind} ${count.toLocaleString("en-US")} prompts: total ${result.totalMs.toFixed(0)} ms, longest send ${result.longestSendMs.toFixed(2)} ms, p99 send ${result.p99SendMs.toFixed(3)} ms`);
  }
}

const order = [
  ["replay", replayFold],
  ["live actor", liveFold],
] as const;
const ordinary = new Map<string, number[]>();
for (let rep = 0; rep < 5; rep++) {
  for (const [name, fold] of rep % 2 === 0 ? order : [...order].reverse()) {
    const { median: rate } = throughput(small, 3, 1, fold);
    ordinary.set(name, [...(ordinary.get(name) ?? []), rate]);
  }
}
const smallEvents = small.reduce((sum, log) => sum + log.length, 0);
for (const [name, rates] of ordinary) {
  console.log(`ordinary sessions (20,000 x 3 turns, ${smallEvents.toLocaleString("en-US")} events) ${name}: median ${Math.round(median(rates)).toLocaleString("en-US")} ev/s (${rates.map(Math.round).join(", ")})`);
}

const long = [logOf(0, 1000, 995)];
const longRate = throughput(long, 1000, 3, replayFold);
console.log(`one long log (1,000 turns, ${(long[0]?.length ?? 0).toLocaleString("en-US")} events) replay: median ${Math.round(longRate.median).toLocaleString("en-US")} ev/s (${longRate.runs.join(", ")})`);
