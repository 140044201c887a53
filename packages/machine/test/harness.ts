/**
 * A simulated engine for the machine's property tests: it turns a generated sequence of
 * happenings (user actions, SDK events, clock advances, engine steps, crashes) into the events an
 * engine would log, sends them to a live actor, and checks the machine's invariants after every
 * step. Nothing here is exported from the package: it is test plumbing.
 */
import { isDeepStrictEqual } from "node:util";
import { fc } from "@fast-check/vitest";
import { createActor, transition, type Actor } from "xstate";
import {
  AGENT_PRODUCER,
  backoffDelayMs,
  isFinal,
  lifecycleState,
  nextDeadline,
  promptInFlight,
  promptToDispatch,
  queuedPrompts,
  replay,
  resolveSettings,
  sessionMachine,
  wantsAbort,
  wantsReservation,
  type DeadlineName,
  type LifecycleState,
  type ReservationFailure,
  type SessionEvent,
  type SessionInput,
  type SessionLogEvent,
  type SessionSettings,
  type SessionSnapshot,
} from "../src/index.js";

/**
 * At least 1,000 cases per property, as the issue asks; `FC_NUM_RUNS` may raise it locally.
 * `CLOUDSESSION_FC_RUNS` sets it outright, lower too: a mutation run (`pnpm mutate`) runs every
 * property once per mutant and pins fast-check's seed, so fewer cases stay deterministic.
 */
export const numRuns = runsOf(Math.max(1000, Number(process.env.FC_NUM_RUNS ?? 0)));

/** `runs` cases, or exactly `CLOUDSESSION_FC_RUNS` when that is set (see {@link numRuns}). */
export function runsOf(runs: number): number {
  const override = Number(process.env.CLOUDSESSION_FC_RUNS);
  return Number.isInteger(override) && override > 0 ? override : runs;
}

export const repository = { owner: "octo", name: "demo" } as const;

/** Short limits so that generated clock advances reach every deadline. */
export const settings: SessionSettings = resolveSettings({
  reservationTimeoutMs: 10_000,
  agentStartTimeoutMs: 5_000,
  turnStallTimeoutMs: 8_000,
  unreachableTimeoutMs: 15_000,
  retry: { maxAttempts: 3, initialDelayMs: 500, maxDelayMs: 4_000, multiplier: 2, jitter: 0.5 },
});

export const input: SessionInput = { repository, settings, requestedAt: 0 };

export type DispatchOutcome = "sent" | "intent-only" | "failed-requeue" | "failed-drop";

/** One thing that happens to a session: the user, the SDK, the clock or the engine itself. */
export type Happening =
  | { readonly kind: "submit"; readonly reuse: number | null }
  | { readonly kind: "reservation"; readonly outcome: "succeeded" | ReservationFailure; readonly random: number }
  | { readonly kind: "agent-start"; readonly producer: string }
  /** The SDK's next lifecycle step, whatever it is now: a create outcome, or the worker's start. */
  | { readonly kind: "progress"; readonly outcome: "succeeded" | ReservationFailure; readonly producer: string; readonly random: number }
  | { readonly kind: "remote-url"; readonly variant: number }
  | { readonly kind: "activity"; readonly what: "delta" | "progress" | "message" }
  | { readonly kind: "idle"; readonly aborted: boolean }
  | { readonly kind: "error" }
  | { readonly kind: "resumed" }
  | { readonly kind: "tick"; readonly ms: number }
  | { readonly kind: "stray-firing"; readonly deadline: DeadlineName }
  | { readonly kind: "abort" }
  | { readonly kind: "close" }
  | { readonly kind: "dispatch"; readonly outcome: DispatchOutcome }
  | { readonly kind: "resolve-intent"; readonly found: boolean; readonly requeue: boolean }
  | { readonly kind: "crash" }
  /** The engine loses the runtime's connection, or gets it back (after settling from history). */
  | { readonly kind: "contact"; readonly lost: boolean }
  /** A timer that knows nothing of contact: every armed deadline whose time has come fires. */
  | { readonly kind: "blind-firing" };

export interface HappeningWeights {
  readonly outcomes?: readonly ("succeeded" | ReservationFailure)[];
  readonly producers?: readonly string[];
  readonly close?: number;
  readonly error?: number;
  readonly crash?: number;
  /** Contact losses and returns (0 by default: the older properties run as they always did). */
  readonly contact?: number;
  /** Firings of every armed deadline that is due, paused or not (0 by default). */
  readonly blindFiring?: number;
}

const deadlineNames: readonly DeadlineName[] = ["reservation", "retry", "agent-start", "turn-stall", "unreachable"];

/** Happenings, weighted so that most runs get past reservation and into a few turns. */
export function happeningArb(weights: HappeningWeights = {}): fc.Arbitrary<Happening> {
  const outcomes = weights.outcomes ?? ["succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "transient", "transient", "policy_blocked", "fatal"];
  const producers = weights.producers ?? [AGENT_PRODUCER, AGENT_PRODUCER, "local"];
  const options: fc.WeightedArbitrary<Happening>[] = [
    { weight: 20, arbitrary: fc.record({ kind: fc.constant("submit" as const), reuse: fc.option(fc.nat(5), { freq: 8, nil: null }) }) },
    {
      weight: 6,
      arbitrary: fc.record({ kind: fc.constant("reservation" as const), outcome: fc.constantFrom(...outcomes), random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("agent-start" as const), producer: fc.constantFrom(...producers) }) },
    {
      weight: 24,
      arbitrary: fc.record({
        kind: fc.constant("progress" as const),
        outcome: fc.constantFrom(...outcomes),
        producer: fc.constantFrom(...producers),
        random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("remote-url" as const), variant: fc.nat(2) }) },
    { weight: 12, arbitrary: fc.record({ kind: fc.constant("activity" as const), what: fc.constantFrom("delta" as const, "progress" as const, "message" as const) }) },
    { weight: 10, arbitrary: fc.record({ kind: fc.constant("idle" as const), aborted: fc.constantFrom(false, false, false, true) }) },
    { weight: 10, arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 3_000 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 12_000 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("stray-firing" as const), deadline: fc.constantFrom(...deadlineNames) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("abort" as const) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("resumed" as const) }) },
    {
      weight: 30,
      arbitrary: fc.record({
        kind: fc.constant("dispatch" as const),
        outcome: fc.constantFrom<DispatchOutcome>("sent", "sent", "sent", "intent-only", "failed-requeue", "failed-drop"),
      }),
    },
    { weight: 6, arbitrary: fc.record({ kind: fc.constant("resolve-intent" as const), found: fc.boolean(), requeue: fc.boolean() }) },
  ];
  if ((weights.close ?? 2) > 0) options.push({ weight: weights.close ?? 2, arbitrary: fc.record({ kind: fc.constant("close" as const) }) });
  if ((weights.error ?? 1) > 0) options.push({ weight: weights.error ?? 1, arbitrary: fc.record({ kind: fc.constant("error" as const) }) });
  if ((weights.crash ?? 0) > 0) options.push({ weight: weights.crash ?? 0, arbitrary: fc.record({ kind: fc.constant("crash" as const) }) });
  if ((weights.contact ?? 0) > 0) options.push({ weight: weights.contact ?? 0, arbitrary: fc.record({ kind: fc.constant("contact" as const), lost: fc.boolean() }) });
  if ((weights.blindFiring ?? 0) > 0) options.push({ weight: weights.blindFiring ?? 0, arbitrary: fc.record({ kind: fc.constant("blind-firing" as const) }) });
  return fc.oneof(...options);
}

export function happeningsArb(weights: HappeningWeights = {}, maxLength = 45): fc.Arbitrary<Happening[]> {
  return fc.array(happeningArb(weights), { minLength: 10, maxLength, size: "max" });
}

/** Fails the property (fast-check shrinks on any throw) with a message naming the invariant. */
export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${message}`);
}

/** The parts of a snapshot that a replay must reproduce. */
export function observable(snapshot: SessionSnapshot) {
  return { value: snapshot.value, status: snapshot.status, context: snapshot.context, output: snapshot.output };
}

export function sameSnapshot(a: SessionSnapshot, b: SessionSnapshot): boolean {
  return isDeepStrictEqual(observable(a), observable(b));
}

const inTurn = (status: string) => status === "dispatching" || status === "sent";

/** Invariants of every reachable snapshot, whatever led to it. */
export function checkSnapshot(snapshot: SessionSnapshot): void {
  const state = lifecycleState(snapshot);
  const { context } = snapshot;
  const final = isFinal(state);
  invariant(final === (snapshot.status === "done"), `final state ${state} must be done (status ${snapshot.status})`);
  invariant((context.failure !== null) === (state === "failed" || state === "blocked"), `failure is set exactly in failed/blocked (state ${state})`);
  if (state === "blocked") invariant(context.failure?.reason === "policy_blocked" && context.failure.phase === "reserving", "blocked means policy_blocked while reserving");
  if (state === "failed") invariant(context.failure?.reason !== "policy_blocked", "policy_blocked never ends in failed");
  if (final) invariant(snapshot.output?.state === state, `output.state ${String(snapshot.output?.state)} must equal ${state}`);
  else invariant(snapshot.output === undefined, "a live session has no output");

  const ids = context.prompts.map((prompt) => prompt.id);
  invariant(new Set(ids).size === ids.length, "prompt ids are unique");
  const running = context.prompts.filter((prompt) => inTurn(prompt.status));
  invariant(running.length <= 1, "at most one prompt is in a turn");
  if (state === "streaming") invariant(running.length === 1 && context.inFlight === running[0]?.id, "streaming has exactly the in-flight prompt in its turn");
  else invariant(running.length === 0 && context.inFlight === null, `no prompt is in a turn in ${state}`);
  invariant((context.abortReason !== null) === wantsAbort(snapshot), "abortReason is set exactly while aborting");
  // The machine's prompt lookups start from the end (promptList.ts): they rely on this shape.
  const firstQueued = context.prompts.findIndex((prompt) => prompt.status === "queued");
  invariant(firstQueued === -1 || context.prompts.slice(firstQueued).every((prompt) => prompt.status === "queued"), "the queued prompts are the list's tail");
  invariant(queuedPrompts(context).length === context.prompts.filter((prompt) => prompt.status === "queued").length, "queuedPrompts is every queued prompt");
  // The list's own bookkeeping (promptList.ts) agrees with a plain scan of it.
  const all = context.prompts.toArray();
  const queueStart = firstQueued === -1 ? all.length : firstQueued;
  invariant(context.prompts.queueStart === queueStart && context.prompts.queueLength === all.length - queueStart, "the list knows where its queue starts");
  invariant(context.prompts.queueHead === all[queueStart], "the list's queue head is the first queued prompt");
  invariant(all.every((prompt) => context.prompts.get(prompt.id) === prompt), "every prompt is found by its id");
  invariant(promptInFlight(context)?.id === (context.inFlight ?? undefined), "promptInFlight is the in-flight prompt");
  for (const prompt of context.prompts) {
    if (prompt.status === "queued" || prompt.status === "undelivered" || prompt.status === "dispatching") {
      invariant(prompt.messageId === undefined, `a ${prompt.status} prompt has no messageId`);
    }
    if (prompt.status === "sent") invariant(prompt.messageId !== undefined, "a sent prompt has a messageId");
    if (prompt.status === "undelivered" || prompt.status === "interrupted") invariant(prompt.reason !== undefined, `a ${prompt.status} prompt says why`);
  }
  invariant(context.attempts >= 1 && context.attempts <= context.settings.retry.maxAttempts, `attempts ${context.attempts} within bounds`);

  const { deadlines } = context;
  // Out of contact the out-of-contact limit is armed too, in every live state.
  invariant((deadlines.unreachable !== null) === (context.contactLostAt !== null && !final), "the out-of-contact limit is armed exactly while out of contact");
  if (context.contactLostAt !== null) invariant(promptToDispatch(snapshot) === undefined, "nothing is dispatched out of contact");
  const armed = deadlineNames.filter((name) => name !== "unreachable" && deadlines[name] !== null);
  const expectArmed = (names: readonly DeadlineName[]) => invariant(isDeepStrictEqual(armed, names), `${state} arms ${names.join(",") || "nothing"}, not ${armed.join(",") || "nothing"}`);
  if (state === "reserving" || state === "awaiting-agent") {
    invariant(context.prompts.every((prompt) => prompt.status === "queued"), "nothing is dispatched before the agent starts");
    invariant(context.agentStartedAt === null && promptToDispatch(snapshot) === undefined, "no dispatch before the agent starts");
  }
  if (state === "reserving") {
    invariant(context.sessionId === null, "no session id while reserving");
    expectArmed(wantsReservation(snapshot) ? ["reservation"] : ["reservation", "retry"]);
  }
  if (state === "awaiting-agent") expectArmed(["agent-start"]);
  if (state === "ready" || state === "streaming") invariant(context.agentStartedAt !== null && context.sessionId !== null, `${state} only after reservation and agent start`);
  if (state === "ready") expectArmed([]);
  if (state === "streaming") expectArmed(["turn-stall"]);
  if (final) {
    expectArmed([]);
    invariant(context.prompts.every((prompt) => !inTurn(prompt.status) && prompt.status !== "queued"), "a final state settles every prompt");
    invariant(promptToDispatch(snapshot) === undefined && !wantsReservation(snapshot) && !wantsAbort(snapshot), "a final state asks for nothing");
  }
}

/** Invariants of one accepted step: what may change, and only on which events. */
export function checkStep(before: SessionSnapshot, event: SessionEvent, after: SessionSnapshot): void {
  const from = lifecycleState(before);
  const to = lifecycleState(after);
  if (isFinal(from)) {
    invariant(sameSnapshot(before, after), `final state ${from} absorbs ${event.type}`);
    return;
  }
  const b = before.context;
  const a = after.context;
  // Prompts are only ever appended, in submission order.
  invariant(
    b.prompts.every((prompt, index) => a.prompts.at(index)?.id === prompt.id),
    "prompts keep their order",
  );
  if (a.prompts.length > b.prompts.length) invariant(event.type === "prompt.submitted" && a.prompts.length === b.prompts.length + 1, "only a submission adds a prompt");

  for (const [index, prompt] of a.prompts.toArray().entries()) {
    const previous = b.prompts.at(index);
    if (previous?.status === "queued" && prompt.status === "dispatching") {
      invariant(event.type === "prompt.dispatching" && event.promptId === prompt.id, "a dispatch starts only on its own intent");
      invariant(from === "ready", `dispatch only from ready, not ${from}`);
      invariant(promptToDispatch(before)?.id === prompt.id, "only the queue's head is dispatched");
      invariant(
        b.prompts.slice(0, index).every((earlier) => earlier.status !== "queued"),
        "prompts are dispatched in submission order",
      );
      invariant(a.agentStartedAt !== null, "no dispatch before the agent started");
    }
    if (previous !== undefined && previous.messageId !== undefined) invariant(prompt.messageId === previous.messageId || prompt.status === "queued" || prompt.status === "undelivered", "a messageId is never replaced");
  }

  if (event.type === "deadline.fired" && !sameSnapshot(before, after)) {
    const due = b.deadlines[event.deadline];
    invariant(due !== null && event.at >= due, `a ${event.deadline} firing at ${event.at} acted before its due time ${String(due)}`);
  }
  if (a.remoteUrl !== b.remoteUrl) invariant(b.remoteUrl === null && event.type === "remote-url.published", "the first remote URL is kept");

  if (to === "ready" && from !== "ready" && from !== "streaming") {
    invariant(from === "awaiting-agent" && event.type === "agent.started" && event.producer === AGENT_PRODUCER, `ready only on a copilot-agent start, not ${event.type} in ${from}`);
  }
  if (a.attempts !== b.attempts) {
    invariant(a.attempts === b.attempts + 1 && event.type === "deadline.fired" && event.deadline === "retry" && to === "reserving", "a new attempt only when the retry is due");
  }
  if (event.type === "reservation.failed" && event.failure === "transient" && to === "reserving" && from === "reserving" && wantsReservation(before)) {
    invariant(
      a.deadlines.retry === event.at + backoffDelayMs(b.settings.retry, b.attempts, event.random ?? 0.5),
      "a transient failure backs off by backoffDelayMs",
    );
  }
  if (to === "blocked") {
    invariant(event.type === "reservation.failed" && event.failure === "policy_blocked" && wantsReservation(before), "blocked only on a policy_blocked create");
  }
  if (to === "failed") {
    const failure = a.failure;
    invariant(failure !== null && failure.phase === from, `failure phase ${String(failure?.phase)} is the state it failed in (${from})`);
    const firing = (name: DeadlineName) => event.type === "deadline.fired" && event.deadline === name;
    switch (failure.reason) {
      case "timeout":
        invariant((from === "reserving" && firing("reservation")) || (from === "awaiting-agent" && firing("agent-start")), `a timeout in ${from} comes from its own deadline`);
        if (from === "awaiting-agent") invariant(b.contactLostAt === null, "the agent's start is never judged out of contact");
        break;
      case "turn-stalled":
        invariant(wantsAbort(before) && firing("turn-stall"), "turn-stalled only when an abort stalls");
        invariant(b.contactLostAt === null, "a stalled abort is never judged out of contact");
        break;
      case "runtime-unreachable":
        invariant(firing("unreachable") && b.contactLostAt !== null, "runtime-unreachable only by the out-of-contact limit, out of contact");
        invariant(event.at >= b.contactLostAt + b.settings.unreachableTimeoutMs, "runtime-unreachable only once the limit passed");
        break;
      case "session-error":
        invariant(event.type === "session.errored", "session-error comes from session.errored");
        break;
      case "create-failed":
        invariant(event.type === "reservation.failed" && event.failure === "fatal", "create-failed comes from a fatal create");
        break;
      case "retries-exhausted":
        invariant(event.type === "reservation.failed" && event.failure === "transient" && b.attempts === b.settings.retry.maxAttempts, "retries-exhausted only after the last attempt");
        break;
      case "policy_blocked":
        invariant(false, "policy_blocked never ends in failed");
    }
  }
}

/** What a run did, for the properties to judge. */
export interface RunResult {
  /** Every event sent to a live actor, `session.requested` first: the session's log. */
  readonly log: SessionLogEvent[];
  /** Events that arrived after the session was done; a real engine would log them too. */
  readonly trailing: SessionEvent[];
  readonly final: SessionSnapshot;
  /** Prompt ids in the order the machine accepted them. */
  readonly submitted: string[];
  /** How many times each prompt reached the runtime (`session.send` that succeeded). */
  readonly receipts: ReadonlyMap<string, number>;
  /** Prompt ids in the order their turns began (a requeued prompt appears again). */
  readonly dispatchStarts: string[];
  /** Lifecycle state after each logged event. */
  readonly visited: LifecycleState[];
  /** The live snapshot after each log event: `snapshots[i]` follows `log[i]`. */
  readonly snapshots: SessionSnapshot[];
  readonly crashes: number;
}

export interface RunOptions {
  /** How the run ends: a close, or a long clock advance (to let every deadline fire). */
  readonly finish?: "close" | "wait" | "none";
}

/** The prompt whose dispatch intent was logged with no outcome after it: the engine must resolve it. */
function danglingIntent(log: readonly (SessionLogEvent | SessionEvent)[]): string | undefined {
  for (let index = log.length - 1; index >= 0; index--) {
    const event = log[index];
    if (event?.type === "prompt.dispatched" || event?.type === "prompt.dispatch-failed") return undefined;
    if (event?.type === "prompt.dispatching") return event.promptId;
  }
  return undefined;
}

/**
 * Runs the happenings through a simulated engine and a live actor, checking every invariant on
 * the way, and returns what happened.
 */
export function simulate(happenings: readonly Happening[], options: RunOptions = {}): RunResult {
  const log: SessionLogEvent[] = [{ type: "session.requested", repository, settings, at: input.requestedAt }];
  const trailing: SessionEvent[] = [];
  // Everything the engine recorded, trailing events included: what survives a crash.
  const recorded: SessionEvent[] = [];
  const submitted: string[] = [];
  const receipts = new Map<string, number>();
  const dispatchStarts: string[] = [];
  const visited: LifecycleState[] = [];
  const snapshots: SessionSnapshot[] = [];
  let actor: Actor<typeof sessionMachine> = createActor(sessionMachine, { input }).start();
  let now = input.requestedAt;
  let promptCount = 0;
  let messageCount = 0;
  let crashes = 0;
  snapshots.push(actor.getSnapshot());

  const snapshot = () => actor.getSnapshot();
  const live = () => snapshot().status === "active";

  function emit(event: SessionEvent): void {
    const before = snapshot();
    recorded.push(event);
    if (before.status !== "active") {
      // A done actor is not sent anything; the pure transition must still absorb the event.
      trailing.push(event);
      const [next] = transition(sessionMachine, before, event);
      invariant(sameSnapshot(before, next), `final state ${lifecycleState(before)} absorbs ${event.type} (pure transition)`);
      return;
    }
    actor.send(event);
    log.push(event);
    const after = snapshot();
    checkStep(before, event, after);
    checkSnapshot(after);
    visited.push(lifecycleState(after));
    snapshots.push(after);
    if (event.type === "prompt.submitted" && after.context.prompts.length > before.context.prompts.length) submitted.push(event.promptId);
    if (event.type === "prompt.dispatching" && after.context.inFlight === event.promptId && before.context.inFlight === null) dispatchStarts.push(event.promptId);
  }

  function received(promptId: string): void {
    receipts.set(promptId, (receipts.get(promptId) ?? 0) + 1);
    messageCount += 1;
    emit({ type: "prompt.dispatched", promptId, messageId: `m${messageCount}`, at: now });
  }

  /** The engine's clock: fire each armed deadline whose time has come, earliest first. */
  function fireDue(): void {
    for (let guard = 0; guard < 10 && live(); guard++) {
      const next = nextDeadline(snapshot().context);
      if (next === undefined || next.at > now) return;
      emit({ type: "deadline.fired", deadline: next.name, at: now });
    }
  }

  function resolveIntent(found: boolean, requeue: boolean): void {
    const promptId = danglingIntent(recorded);
    if (promptId === undefined) return;
    const prompt = snapshot().context.prompts.find((candidate) => candidate.id === promptId);
    // A turn that went idle proves the runtime had the prompt.
    if (found || prompt?.status === "completed") received(promptId);
    else emit({ type: "prompt.dispatch-failed", promptId, message: "not found in the session's history", requeue, at: now });
  }

  function reservationOutcome(outcome: "succeeded" | ReservationFailure, random: number): void {
    // Outcomes come only for a createSession in flight.
    if (!wantsReservation(snapshot())) return;
    if (outcome === "succeeded") emit({ type: "reservation.succeeded", sessionId: "s1", at: now });
    else emit({ type: "reservation.failed", failure: outcome, message: `create failed: ${outcome}`, random, at: now });
  }

  function apply(happening: Happening): void {
    switch (happening.kind) {
      case "submit": {
        const reused = happening.reuse === null ? undefined : submitted[happening.reuse % Math.max(1, submitted.length)];
        if (reused === undefined) promptCount += 1;
        emit({ type: "prompt.submitted", promptId: reused ?? `p${promptCount}`, text: `prompt ${promptCount}`, at: now });
        return;
      }
      case "reservation":
        reservationOutcome(happening.outcome, happening.random);
        return;
      case "progress":
        if (wantsReservation(snapshot())) reservationOutcome(happening.outcome, happening.random);
        else if (lifecycleState(snapshot()) === "awaiting-agent") emit({ type: "agent.started", producer: happening.producer, at: now });
        return;
      case "agent-start":
        // The remote worker connects only to a reserved task (an early start is reconciled by the engine).
        if (lifecycleState(snapshot()) === "reserving") return;
        emit({ type: "agent.started", producer: happening.producer, at: now });
        return;
      case "remote-url":
        emit({ type: "remote-url.published", url: `https://github.com/copilot/tasks/s${happening.variant}`, at: now });
        return;
      case "activity":
        if (happening.what === "progress") emit({ type: "turn.progressed", at: now });
        else if (happening.what === "delta") emit({ type: "assistant.delta", messageId: "a1", text: "chunk", at: now });
        else emit({ type: "assistant.message", messageId: "a1", text: `answer ${now}`, at: now });
        return;
      case "idle":
        emit({ type: "turn.idle", aborted: happening.aborted, at: now });
        return;
      case "error":
        emit({ type: "session.errored", message: "boom", at: now });
        return;
      case "resumed":
        emit({ type: "session.resumed", at: now });
        return;
      case "tick":
        now += happening.ms;
        fireDue();
        return;
      case "stray-firing":
        // Stale or early: the engine's clock may fire a timer that was re-armed or disarmed since.
        emit({ type: "deadline.fired", deadline: happening.deadline, at: now });
        return;
      case "abort":
        emit({ type: "turn.abort-requested", at: now });
        return;
      case "close":
        emit({ type: "close.requested", reason: "user closed", at: now });
        return;
      case "dispatch": {
        if (danglingIntent(recorded) !== undefined) return;
        const prompt = promptToDispatch(snapshot());
        if (prompt === undefined) return;
        emit({ type: "prompt.dispatching", promptId: prompt.id, at: now });
        if (happening.outcome === "sent") received(prompt.id);
        else if (happening.outcome === "failed-requeue") emit({ type: "prompt.dispatch-failed", promptId: prompt.id, message: "send failed", requeue: true, at: now });
        else if (happening.outcome === "failed-drop") emit({ type: "prompt.dispatch-failed", promptId: prompt.id, message: "send refused", requeue: false, at: now });
        return;
      }
      case "resolve-intent":
        resolveIntent(happening.found, happening.requeue);
        return;
      case "contact":
        // The engine records a loss while it has a session to lose, and a return only after a loss.
        if (happening.lost && lifecycleState(snapshot()) !== "reserving") emit({ type: "runtime.disconnected", at: now });
        else if (!happening.lost && snapshot().context.contactLostAt !== null) emit({ type: "runtime.reconnected", at: now });
        return;
      case "blind-firing":
        for (const name of deadlineNames) {
          const due = snapshot().context.deadlines[name];
          if (live() && due !== null && due <= now) emit({ type: "deadline.fired", deadline: name, at: now });
        }
        return;
      case "crash": {
        if (!live()) return;
        // A restart: the in-memory actor is lost; the log is all that survives.
        const restored = replay(log);
        invariant(sameSnapshot(restored, snapshot()), "replay of the log equals the live snapshot at the crash");
        actor.stop();
        actor = createActor(sessionMachine, { snapshot: restored, input }).start();
        crashes += 1;
        return;
      }
    }
  }

  for (const happening of happenings) apply(happening);
  if (options.finish === "close" || options.finish === undefined) {
    resolveIntent(true, false);
    if (live()) emit({ type: "close.requested", at: now });
  } else if (options.finish === "wait") {
    for (let round = 0; round < 10 && live(); round++) {
      now += 1_000_000;
      fireDue();
    }
  }
  const final = snapshot();
  actor.stop();
  return { log, trailing, final, submitted, receipts, dispatchStarts, visited, snapshots, crashes };
}
