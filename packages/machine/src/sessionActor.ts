import { createActor, createEmptyActor, type InspectionEvent } from "xstate";
import type { SessionEvent } from "./events.js";
import { fastInitialSnapshot, fastTransition } from "./fastTransition.js";
import type { SessionSnapshot } from "./sessionSnapshot.js";
import { sessionMachine, type SessionInput } from "./sessionMachine.js";

/** What a session actor's `subscribe` takes: the shape of an XState (and RxJS) observer. */
export interface SessionActorObserver {
  next?: (snapshot: SessionSnapshot) => void;
  error?: (error: unknown) => void;
  complete?: () => void;
}

/**
 * A running session machine: the part of an XState actor an engine uses. XState's `Actor` has this
 * shape too, so either can stand behind it.
 */
export interface SessionActor {
  getSnapshot(): SessionSnapshot;
  send(event: SessionEvent): void;
  subscribe(observer: SessionActorObserver): { unsubscribe(): void };
}

export interface SessionActorOptions {
  /** XState inspection (e.g. the Stately inspector): gives a full XState actor, which the inspector needs. */
  readonly inspect?: (event: InspectionEvent) => void;
}

/**
 * Starts the session machine from `input`. Without `inspect` the actor is a snapshot and a list of
 * observers over the machine's transitions (the compiled table of fastTransition.ts, and the
 * machine's own `transition` for what the table leaves to XState, sharing one inert actor scope):
 * the same snapshots as an XState actor (a property test holds them equal), for about a fifth of
 * the memory, which is what an engine holding thousands of idle sessions pays per session. The
 * machine is pure (assignments and guards only), so no action, delay or child needs an actor of its own.
 *
 * Like an XState actor it notifies observers on every event it processes, completes them when the
 * machine reaches a final state, ignores events after that, queues an event sent from inside an
 * observer until the current one is done, and turns a throwing transition into an `error`
 * snapshot.
 *
 * @example
 * const actor = createSessionActor({ repository: { owner: "octo", name: "demo" }, settings: resolveSettings(), requestedAt: 0 });
 * actor.send({ type: "reservation.succeeded", sessionId: "s1", at: 900 });
 * actor.getSnapshot().value; // "awaiting-agent"
 */
export function createSessionActor(input: SessionInput, options: SessionActorOptions = {}): SessionActor {
  if (options.inspect !== undefined) return createActor(sessionMachine, { input, inspect: options.inspect }).start();
  return new LightSessionActor(fastInitialSnapshot(input) ?? sessionMachine.getInitialSnapshot(inertScope(), input));
}

type SessionScope = Parameters<typeof sessionMachine.transition>[2];

let scope: SessionScope | undefined;

/**
 * The scope every light actor transitions in: what XState's pure `transition()` builds on each call
 * (a stand-in actor as `self`, its system, no-op effects), built once. Only `assign` and guards run
 * in it, and they read nothing of it that differs between sessions.
 */
function inertScope(): SessionScope {
  if (scope !== undefined) return scope;
  const empty = createEmptyActor();
  const noop = (): void => undefined;
  // `self` is only handed to assignments, which never use it: an empty actor stands in.
  const self = empty as unknown as SessionScope["self"];
  scope = { self, id: "", sessionId: "", logger: noop, defer: noop, emit: noop, system: empty.system, stopChild: noop, actionExecutor: noop };
  return scope;
}

/** Rethrown outside the caller's stack, as XState does with an error nobody observes. */
function reportUnhandledError(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

class LightSessionActor implements SessionActor {
  private observers: SessionActorObserver[] | undefined;
  private queue: SessionEvent[] | undefined;
  private processing = false;

  constructor(private snapshot: SessionSnapshot) {}

  getSnapshot(): SessionSnapshot {
    return this.snapshot;
  }

  send(event: SessionEvent): void {
    if (this.processing) {
      (this.queue ??= []).push(event);
      return;
    }
    this.processing = true;
    try {
      for (let next: SessionEvent | undefined = event; next !== undefined; next = this.queue?.shift()) this.process(next);
    } finally {
      this.queue = undefined;
      this.processing = false;
    }
  }

  subscribe(observer: SessionActorObserver): { unsubscribe(): void } {
    const { status } = this.snapshot;
    if (status === "active") (this.observers ??= []).push(observer);
    else if (status === "done") tell(observer, "complete", undefined);
    else if (status === "error") tell(observer, "error", this.snapshot.error);
    return {
      unsubscribe: () => {
        const index = this.observers?.indexOf(observer) ?? -1;
        if (index >= 0) this.observers?.splice(index, 1);
      },
    };
  }

  private process(event: SessionEvent): void {
    // Done or failed: the actor has stopped and ignores what is sent to it.
    if (this.snapshot.status !== "active") return;
    let next: SessionSnapshot;
    try {
      next = fastTransition(this.snapshot, event) ?? sessionMachine.transition(this.snapshot, event, inertScope());
    } catch (error) {
      this.snapshot = { ...this.snapshot, status: "error", error };
      this.fail(error);
      return;
    }
    this.snapshot = next;
    const observers = this.observers;
    if (observers === undefined) return;
    // A copy: an observer may unsubscribe (or subscribe another) while it is told.
    for (const observer of observers.slice()) tell(observer, "next", next);
    if (next.status !== "active") {
      this.observers = undefined;
      for (const observer of observers) tell(observer, "complete", undefined);
    }
  }

  private fail(error: unknown): void {
    const observers = this.observers ?? [];
    this.observers = undefined;
    let unobserved = observers.length === 0;
    for (const observer of observers) {
      if (observer.error === undefined) unobserved = true;
      else tell(observer, "error", error);
    }
    if (unobserved) reportUnhandledError(error);
  }
}

/** Calls one observer callback; what it throws must not stop the others, so it is rethrown apart. */
function tell(observer: SessionActorObserver, kind: keyof SessionActorObserver, value: unknown): void {
  try {
    if (kind === "next") observer.next?.(value as SessionSnapshot);
    else if (kind === "error") observer.error?.(value);
    else observer.complete?.();
  } catch (error) {
    reportUnhandledError(error);
  }
}
