import type { Fixture, FixtureName } from "./fixture.js";
import type { LocalRun } from "./localScript.js";
import { createNormalizer, type RawEvent } from "./normalize.js";

export interface RecordingMeta {
  readonly sdk: string;
  readonly platform: string;
  /** Temp paths to replace with `<home>`. */
  readonly paths: readonly string[];
  /** Extra facts to keep in the fixtures' `notes`, keyed by fixture name. */
  readonly notes?: Partial<Record<FixtureName, Readonly<Record<string, unknown>>>>;
}

const DESCRIPTIONS: Readonly<Record<FixtureName, string>> = {
  "local-create": "createSession({ streaming: true, onPermissionRequest: approveAll, onEvent }) on a local session (no cloud): events delivered until session.start",
  "local-turn": "send('Say hello') until session.idle; the stub streams 'Hello from the stub model.' in 5 chunks",
  "local-second-turn": "sendAndWait('Say hello again') on the same session",
  "local-abort": "send('Tell me a long story'), the stub streams slowly, session.abort() after 3 assistant.message_delta, until session.idle",
  "local-history": "session.getEvents() on the live session after the abort",
  "local-stored-log": "COPILOT_HOME/session-state/<id>/events.jsonl after session.disconnect() (unchanged by client.stop())",
  "local-resume": "a second client (new runtime process, same COPILOT_HOME): resumeSession(id, { streaming: true, onEvent }), send('Say hello after resume') until session.idle",
  "local-history-after-resume": "session.getEvents() on the resumed session after its turn",
};

/**
 * Turns one run of the local-session script into the committed fixtures, normalised with one id
 * map across all of them (an `<id:N>` means the same thing in every file of one recording).
 */
export function fixturesFromRun(run: LocalRun, meta: RecordingMeta): Fixture[] {
  const normalise = createNormalizer(meta.paths);
  const recordedWith = { sdk: meta.sdk, runtime: run.runtimeStatus.version, protocolVersion: run.runtimeStatus.protocolVersion, platform: meta.platform };
  const streams: [FixtureName, readonly RawEvent[] | undefined][] = [
    ["local-create", run.segments.create],
    ["local-turn", run.segments.turn],
    ["local-second-turn", run.segments.secondTurn],
    ["local-abort", run.segments.abort],
    ["local-history", run.history],
    ["local-stored-log", run.storedAfterDisconnect],
    ["local-resume", run.segments.resume],
    ["local-history-after-resume", run.historyAfterResume],
  ];
  const scriptNotes: Partial<Record<FixtureName, Record<string, unknown>>> = {
    "local-create": { lifecycle: run.lifecycle, sessionId: normalise.value(run.sessionId) },
    "local-turn": { sendResolvedTo: normalise.value(run.firstMessageId) },
    "local-second-turn": { sendAndWaitResolvedWith: run.sendAndWaitResult?.type ?? null },
    "local-stored-log": {
      storedAfterResume: run.storedAfterResume?.map((e) => e.type) ?? null,
      firstClientAfterAbortIdle: run.afterAbortIdle.map((e) => e.type),
      secondClientAfterResumeIdle: run.afterResumeIdle.map((e) => e.type),
      sameAfterStop: JSON.stringify(run.storedAfterStop?.map((e) => e.id)) === JSON.stringify(run.storedAfterDisconnect?.map((e) => e.id)),
    },
  };
  return streams.map(([name, events]) => ({
    name,
    description: DESCRIPTIONS[name],
    recordedWith,
    events: firstDeliveries(events ?? []).map(normalise.event),
    notes: { ...scriptNotes[name], ...meta.notes?.[name] },
  }));
}

/**
 * The events without redeliveries: the real runtime sometimes delivers an event twice, same id and
 * same content (seen: `session.resume` on resume, 2 runs in ~30), which a fixture records once.
 */
export function firstDeliveries<T extends { readonly id?: string }>(events: readonly T[]): T[] {
  const seen = new Set<string | undefined>();
  return events.filter((event) => {
    if (event.id !== undefined && seen.has(event.id)) return false;
    seen.add(event.id);
    return true;
  });
}

/** Every event delivered again after its first delivery, with whether the copy equals the first. */
export function redeliveries(events: readonly { readonly id: string; readonly type: string }[]): { type: string; identical: boolean }[] {
  const first = new Map<string, string>();
  const out: { type: string; identical: boolean }[] = [];
  for (const event of events) {
    const json = JSON.stringify(event);
    const earlier = first.get(event.id);
    if (earlier === undefined) first.set(event.id, json);
    else out.push({ type: event.type, identical: earlier === json });
  }
  return out;
}
