import { isDeepStrictEqual } from "node:util";
import { initialTransition, transition } from "xstate";
import { getShortestPaths, getSimplePaths, getStateNodes } from "xstate/graph";
import { describe, expect, test } from "vitest";
import {
  AGENT_PRODUCER,
  lifecycleState,
  replay,
  sessionMachine,
  type DeadlineName,
  type SessionEvent,
  type SessionLogEvent,
  type SessionSnapshot,
} from "../src/index.js";
import { checkSnapshot, checkStep, input, invariant, observable, repository, settings } from "./harness.js";

const due = Number.MAX_SAFE_INTEGER;
const deadlineNames: readonly DeadlineName[] = ["reservation", "retry", "agent-start", "turn-stall", "unreachable"];

/** A small finite alphabet: every event type, with payloads that exercise each guard both ways. */
const events: readonly SessionEvent[] = [
  { type: "reservation.succeeded", sessionId: "s1", at: 100 },
  { type: "reservation.failed", failure: "policy_blocked", message: "policy", at: 100 },
  { type: "reservation.failed", failure: "fatal", message: "fatal", at: 100 },
  { type: "reservation.failed", failure: "transient", message: "transient", random: 0.5, at: 100 },
  { type: "agent.started", producer: AGENT_PRODUCER, at: 100 },
  { type: "agent.started", producer: "local", at: 100 },
  { type: "remote-url.published", url: "https://github.com/copilot/tasks/s1", at: 100 },
  { type: "remote-url.published", url: "https://github.com/copilot/tasks/other", at: 100 },
  { type: "prompt.submitted", promptId: "p1", text: "one", at: 100 },
  { type: "prompt.submitted", promptId: "p2", text: "two", at: 100 },
  { type: "prompt.dispatching", promptId: "p1", at: 100 },
  { type: "prompt.dispatching", promptId: "p2", at: 100 },
  { type: "prompt.dispatched", promptId: "p1", messageId: "m1", at: 100 },
  { type: "prompt.dispatch-failed", promptId: "p1", message: "send failed", requeue: true, at: 100 },
  { type: "prompt.dispatch-failed", promptId: "p1", message: "send refused", requeue: false, at: 100 },
  { type: "assistant.delta", messageId: "a1", text: "chunk", at: 100 },
  { type: "turn.progressed", at: 100 },
  { type: "assistant.message", messageId: "a1", text: "answer", at: 100 },
  { type: "turn.idle", aborted: false, at: 100 },
  { type: "turn.idle", aborted: true, at: 100 },
  { type: "turn.abort-requested", at: 100 },
  { type: "session.errored", message: "boom", at: 100 },
  { type: "session.resumed", at: 100 },
  { type: "close.requested", reason: "done", at: 100 },
  { type: "runtime.disconnected", at: 100 },
  { type: "runtime.reconnected", at: 100 },
  // Each deadline both due and early (an early firing must change nothing).
  ...deadlineNames.flatMap((deadline): SessionEvent[] => [
    { type: "deadline.fired", deadline, at: due },
    { type: "deadline.fired", deadline, at: 1 },
  ]),
];

/**
 * States are compared by what matters to the lifecycle, not by times or reply text, so the
 * traversal is finite.
 */
function serializeState(snapshot: SessionSnapshot): string {
  const { context } = snapshot;
  return JSON.stringify({
    value: snapshot.value,
    prompts: context.prompts.map((prompt) => [prompt.id, prompt.status, prompt.messageId !== undefined]),
    inFlight: context.inFlight,
    abortReason: context.abortReason,
    attempts: context.attempts,
    armed: deadlineNames.filter((name) => context.deadlines[name] !== null),
    remoteUrl: context.remoteUrl !== null,
    sessionId: context.sessionId,
    agentStarted: context.agentStartedAt !== null,
    failure: context.failure === null ? null : [context.failure.phase, context.failure.reason],
    outOfContact: context.contactLostAt !== null,
  });
}

const traversal = { input, events, serializeState };

function logOf(events: readonly SessionEvent[]): SessionLogEvent[] {
  return [{ type: "session.requested", repository, settings, at: input.requestedAt }, ...events];
}

/** Every transition definition of the machine, keyed by source, event and position. */
function allTransitions(): Map<string, boolean> {
  const keys = new Map<string, boolean>();
  for (const node of getStateNodes(sessionMachine.root)) {
    for (const [eventType, definitions] of Object.entries(node.on)) {
      definitions.forEach((_definition, index) => keys.set(`${node.id} ${eventType} #${index}`, false));
    }
  }
  return keys;
}

/** Records which transition definitions the machine selects for `event` in `snapshot`. */
function markTaken(taken: Map<string, boolean>, snapshot: SessionSnapshot, event: SessionEvent): void {
  for (const definition of sessionMachine.getTransitionData(snapshot, event)) {
    const siblings: readonly unknown[] = definition.source.on[definition.eventType];
    taken.set(`${definition.source.id} ${definition.eventType} #${siblings.indexOf(definition)}`, true);
  }
}

interface GraphPath {
  readonly state: SessionSnapshot;
  readonly steps: readonly { readonly event: SessionEvent }[];
}

/** A path's events: `steps[0]` is the initial state, reached by `xstate.init`. */
const pathEvents = (path: GraphPath): SessionEvent[] => path.steps.slice(1).map((step) => step.event);

/**
 * Replays a path's events through the pure `transition()`, asserting every invariant on each step
 * and recording the transition definitions taken. States are abstracted for the traversal, so the
 * path's own snapshots are representatives: the real ones are recomputed here. Returns the real end.
 */
function walk(path: GraphPath, serialize: ((snapshot: SessionSnapshot) => string) | null, taken?: Map<string, boolean>): SessionSnapshot {
  let [before] = initialTransition(sessionMachine, input);
  const events = pathEvents(path);
  for (const event of events) {
    if (taken !== undefined && before.status === "active") {
      markTaken(taken, before, event);
    }
    const [after] = transition(sessionMachine, before, event);
    checkStep(before, event, after);
    checkSnapshot(after);
    before = after;
  }
  // With an abstraction that keeps everything transitions depend on, the path ends where it says.
  if (serialize !== null) invariant(serialize(before) === serialize(path.state), `path ends in ${serialize(path.state)}, not ${serialize(before)}`);
  invariant(isDeepStrictEqual(observable(replay(logOf(events))), observable(before)), "replay of the path's log equals the pure fold");
  return before;
}

describe("model-based: shortest paths", () => {
  const paths = getShortestPaths(sessionMachine, traversal);

  test("reach every state node of the machine", () => {
    const reached = new Set(paths.flatMap((path) => path.state._nodes.map((node) => node.id)));
    const all = getStateNodes(sessionMachine.root).map((node) => node.id);
    expect(all.filter((id) => !reached.has(id))).toEqual([]);
    expect(paths.length).toBeGreaterThan(100);
  });

  test("take every transition; every path and every one-event extension of it keeps every invariant", () => {
    const taken = allTransitions();
    for (const path of paths) {
      const end = walk(path, serializeState, taken);
      // Self-loops never lie on a shortest path: try the whole alphabet once from every end.
      for (const event of events) {
        if (end.status === "active") {
          markTaken(taken, end, event);
        }
        const [next] = transition(sessionMachine, end, event);
        checkStep(end, event, next);
        checkSnapshot(next);
      }
    }
    expect([...taken].filter(([, covered]) => !covered).map(([key]) => key)).toEqual([]);
  });

  test("each path's end agrees with how it got there", () => {
    for (const path of paths) {
      const end = walk(path, null);
      const state = lifecycleState(end);
      const types = pathEvents(path);
      const last = types.at(-1);
      if (state === "ready" || state === "streaming") {
        invariant(types.some((event) => event.type === "agent.started" && event.producer === AGENT_PRODUCER), "ready after a copilot-agent start");
      }
      if (state === "blocked") invariant(last?.type === "reservation.failed" && last.failure === "policy_blocked", "blocked by policy_blocked");
      if (state === "failed" && end.context.failure?.reason === "timeout") {
        invariant(last?.type === "deadline.fired" && last.at === due && last.deadline === (end.context.failure.phase === "reserving" ? "reservation" : "agent-start"), "a timeout by its own deadline");
      }
      if (state === "closed") invariant(last?.type === "close.requested", "closed by close.requested");
    }
  });
});

describe("model-based: simple paths through the lifecycle", () => {
  // Lifecycle states only (prompts aside), so that every simple path can be enumerated.
  const lifecycleEvents = events.filter((event) => !event.type.startsWith("prompt.") && !event.type.startsWith("assistant.") && event.type !== "turn.progressed");
  const withTurns: readonly SessionEvent[] = [
    ...lifecycleEvents,
    { type: "prompt.submitted", promptId: "p1", text: "one", at: 100 },
    { type: "prompt.dispatching", promptId: "p1", at: 100 },
  ];
  const serializeLifecycle = (snapshot: SessionSnapshot) => JSON.stringify({ value: snapshot.value, attempts: snapshot.context.attempts, prompts: snapshot.context.prompts.length });
  const paths = getSimplePaths(sessionMachine, { input, events: withTurns, serializeState: serializeLifecycle });

  test("every final state is reached by several distinct simple paths, each consistent with replay", () => {
    const ends = new Map<string, number>();
    for (const path of paths) {
      const state = lifecycleState(walk(path, null));
      ends.set(state, (ends.get(state) ?? 0) + 1);
    }
    for (const state of ["reserving", "awaiting-agent", "ready", "streaming", "blocked", "failed", "closed"]) expect(ends.get(state) ?? 0).toBeGreaterThan(0);
    expect(ends.get("failed")).toBeGreaterThan(10);
  });

  test("no simple path reaches ready without a copilot-agent start, or dispatches before it", () => {
    for (const path of paths) {
      const events = pathEvents(path);
      const states = events.map((_event, index) => lifecycleState(replay(logOf(events.slice(0, index + 1)))));
      const start = events.findIndex((event, index) => event.type === "agent.started" && event.producer === AGENT_PRODUCER && states[index] === "ready");
      const readyAt = states.indexOf("ready");
      const dispatchAt = states.indexOf("streaming");
      if (readyAt !== -1) expect(start).toBe(readyAt);
      if (dispatchAt !== -1) expect(dispatchAt).toBeGreaterThan(start);
    }
  });
});
