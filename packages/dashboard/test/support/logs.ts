/**
 * Plausible session logs for property tests: a small simulated engine looks at the machine's
 * snapshot, lists the events that could be recorded next (what the SDK, the clock, the user or the
 * engine could do now), and a generated choice picks one. Every log reaches real states by real
 * transitions, final ones included.
 */
import { fc } from "@fast-check/vitest";
import { encodeEvent } from "@cloudsession/engine";
import { AGENT_PRODUCER, createSessionActor, inputFromRequest, queuedPrompts, resolveSettings, type SessionEvent, type SessionLogEvent, type SessionRequested } from "@cloudsession/machine";
import type { EventStore, NewEvent } from "@cloudsession/store";
import { statePath } from "../../src/statePath.js";

export const numRuns = Math.max(200, Number(process.env["FC_NUM_RUNS"] ?? 0));

/** Builds a log from choices: each choice picks one of the events possible at that point. */
export function logFrom(choices: readonly number[], repository = { owner: "octo", name: "demo" }): SessionLogEvent[] {
  const settings = resolveSettings({ reservationTimeoutMs: 10_000, agentStartTimeoutMs: 5_000, turnStallTimeoutMs: 8_000, retry: { maxAttempts: 3, initialDelayMs: 500 } });
  const request: SessionRequested = { type: "session.requested", repository, settings, at: 1_000 };
  const actor = createSessionActor(inputFromRequest(request));
  const log: SessionLogEvent[] = [request];
  let now = 1_000;
  let prompts = 0;
  let messages = 0;
  for (const choice of choices) {
    const snapshot = actor.getSnapshot();
    if (snapshot.status !== "active") break;
    now += 100 + (choice % 7) * 50;
    const options = possibleEvents(statePath(snapshot.value), snapshot.context, now, () => `p${++prompts}`, () => `m${++messages}`);
    const event = options[choice % options.length];
    if (event === undefined) break;
    now = Math.max(now, event.at);
    actor.send(event);
    log.push(event);
  }
  return log;
}

type Context = ReturnType<ReturnType<typeof createSessionActor>["getSnapshot"]>["context"];

function possibleEvents(state: string, context: Context, at: number, promptId: () => string, messageId: () => string): SessionEvent[] {
  const due = (name: keyof Context["deadlines"]): SessionEvent[] => {
    const when = context.deadlines[name];
    return when === null ? [] : [{ type: "deadline.fired", deadline: name, at: Math.max(at, when) }];
  };
  const always: SessionEvent[] = [
    { type: "prompt.submitted", promptId: promptId(), text: `prompt at ${at}`, at },
    { type: "remote-url.published", url: "https://github.com/copilot/tasks/t-1", at },
  ];
  const inFlight = context.inFlight;
  const byState: Record<string, SessionEvent[]> = {
    "reserving.attempting": [
      { type: "reservation.succeeded", sessionId: "sdk-1", at },
      { type: "reservation.succeeded", sessionId: "sdk-1", at },
      { type: "reservation.failed", failure: "transient", message: "try again", random: 0.5, at },
      { type: "reservation.failed", failure: "fatal", message: "bad repository", at },
      { type: "reservation.failed", failure: "policy_blocked", message: "policy_blocked: not allowed", at },
      ...due("reservation"),
    ],
    "reserving.backing-off": [...due("retry"), ...due("retry"), ...due("reservation")],
    "awaiting-agent": [{ type: "agent.started", producer: AGENT_PRODUCER, at }, { type: "agent.started", producer: AGENT_PRODUCER, at }, { type: "agent.started", producer: "local", at }, ...due("agent-start"), { type: "session.errored", message: "worker lost", at }, { type: "session.resumed", at }],
    ready: [...queuedPrompts(context).slice(0, 1).flatMap((prompt) => [{ type: "prompt.dispatching" as const, promptId: prompt.id, at }, { type: "prompt.dispatching" as const, promptId: prompt.id, at }]), { type: "session.errored", message: "worker lost", at }],
    "streaming.active": [
      ...(inFlight === null ? [] : [{ type: "prompt.dispatched" as const, promptId: inFlight, messageId: messageId(), at }, { type: "prompt.dispatch-failed" as const, promptId: inFlight, message: "send failed", requeue: at % 2 === 0, at }]),
      { type: "assistant.message", messageId: "m", text: "an answer", at },
      { type: "turn.progressed", at },
      { type: "turn.idle", aborted: false, at },
      { type: "turn.idle", aborted: false, at },
      { type: "turn.abort-requested", at },
      ...due("turn-stall"),
      { type: "session.errored", message: "turn failed", at },
    ],
    "streaming.aborting": [{ type: "turn.idle", aborted: true, at }, ...due("turn-stall")],
  };
  const close: SessionEvent = { type: "close.requested", reason: "done", at };
  return [...(byState[state] ?? []), ...always, ...(at % 5 === 0 ? [close] : [])];
}

/** Choices for {@link logFrom}. */
export const choicesArb = fc.array(fc.nat(1_000), { minLength: 1, maxLength: 40 });

/** Appends a log to the store as the engine records it (one append per event, the last marking the stream final when asked). */
export async function appendLog(store: EventStore, id: string, log: readonly SessionLogEvent[], final = false): Promise<void> {
  for (const [index, event] of log.entries()) {
    await store.append(id, [encodeEvent(event) as unknown as NewEvent], { markFinal: final && index === log.length - 1 });
  }
}
