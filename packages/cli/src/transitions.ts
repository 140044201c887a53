import { inputFromRequest, sessionMachine, type SessionLogEvent } from "@cloudsession/machine";
import { createActor, type InspectionEvent, type StateValue } from "xstate";
import { damagedLogError } from "./damage.js";

/**
 * One change of a session actor's state, caused by one event. `run --json` and `replay --json`
 * print these in the same shape, so the live run and the replay of its log can be compared.
 */
export interface Transition {
  /** The engine's session id (the event stream). */
  readonly session: string;
  /** 0 for the initial state, then 1, 2, … per session. */
  readonly seq: number;
  /** Dotted state path before the event (`reserving.attempting`); null for the initial state. */
  readonly from: string | null;
  readonly to: string;
  /** The event that caused it; `session.requested` for the initial state. */
  readonly event: string;
  /** The event's own time (epoch ms), as recorded in the log. */
  readonly at: number;
}

type Pending = Omit<Transition, "session">;

interface Track {
  session: string | null;
  last: string | null;
  seq: number;
  readonly buffered: Pending[];
}

/**
 * `reserving.attempting` for `{ reserving: "attempting" }`.
 *
 * @example
 * statePath({ streaming: "active" }) // "streaming.active"
 */
export function statePath(value: StateValue): string {
  if (typeof value === "string") return value;
  return Object.entries(value)
    .map(([key, child]) => (child === undefined ? key : `${key}.${statePath(child)}`))
    .join(",");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function eventTime(event: unknown, snapshot: unknown): number {
  if (isRecord(event) && typeof event["at"] === "number") return event["at"];
  const context = isRecord(snapshot) ? snapshot["context"] : undefined;
  return isRecord(context) && typeof context["requestedAt"] === "number" ? context["requestedAt"] : 0;
}

/**
 * Listens to XState inspection of session actors (the engine's `inspect` option, or a replay's
 * actor) and turns state changes into {@link Transition}s. Actors appear before the CLI knows their
 * session id (the engine creates the actor inside `start()`), so their transitions wait until
 * {@link TransitionTap.bindNext} names them.
 */
export class TransitionTap {
  private readonly tracks = new Map<object, Track>();
  private readonly unbound: Track[] = [];
  private readonly listeners = new Set<(transition: Transition) => void>();

  /** Pass this as the engine's (or an actor's) `inspect` option. */
  readonly inspect = (event: InspectionEvent): void => {
    if (event.type !== "@xstate.snapshot") return;
    let track = this.tracks.get(event.actorRef);
    if (!track) {
      track = { session: null, last: null, seq: 0, buffered: [] };
      this.tracks.set(event.actorRef, track);
      this.unbound.push(track);
    }
    const snapshot: unknown = event.snapshot;
    if (!isRecord(snapshot) || snapshot["value"] === undefined) return;
    const to = statePath(snapshot["value"] as StateValue);
    if (to === track.last) return;
    const initial = event.event.type === "xstate.init";
    const pending: Pending = {
      seq: initial ? 0 : track.seq + 1,
      from: initial ? null : track.last,
      to,
      event: initial ? "session.requested" : event.event.type,
      at: eventTime(initial ? undefined : event.event, snapshot),
    };
    track.seq = pending.seq;
    track.last = to;
    if (track.session === null) track.buffered.push(pending);
    else this.emit({ session: track.session, ...pending });
  };

  /** Names the oldest actor not yet named: call it right after `engine.start()` / `engine.resume()`. */
  bindNext(session: string): void {
    const track = this.unbound.shift();
    if (!track) return;
    track.session = session;
    for (const pending of track.buffered.splice(0)) this.emit({ session, ...pending });
  }

  /** Calls `listener` with every transition of a named actor, from now on. Returns an unsubscribe. */
  onTransition(listener: (transition: Transition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(transition: Transition): void {
    for (const listener of this.listeners) listener(transition);
  }
}

/**
 * Feeds a stored log through a fresh machine actor, event by event, and returns each transition:
 * what `cloudsession replay` prints. `inspect` also receives the actor's inspection events (the
 * Stately inspector, with `--inspect`).
 *
 * @example
 * const transitions = replayTransitions("s-1", await engine.history("s-1"));
 */
export function replayTransitions(session: string, log: readonly SessionLogEvent[], inspect?: (event: InspectionEvent) => void): Transition[] {
  const [first, ...rest] = log;
  if (first?.type !== "session.requested") throw damagedLogError(session, { code: "CORRUPTED_LOG", message: `session ${session}: the log does not start with session.requested` });
  const tap = new TransitionTap();
  const transitions: Transition[] = [];
  tap.onTransition((transition) => transitions.push(transition));
  const actor = createActor(sessionMachine, {
    input: inputFromRequest(first),
    inspect: (event) => {
      tap.inspect(event);
      inspect?.(event);
    },
  });
  actor.start();
  tap.bindNext(session);
  for (const event of rest) {
    // Final states absorb the rest, exactly as the engine's replay does.
    if (actor.getSnapshot().status !== "active" || event.type === "session.requested") break;
    actor.send(event);
  }
  actor.stop();
  return transitions;
}
