import { decodeEvent } from "@cloudsession/engine";
import { createSessionActor, inputFromRequest, type SessionLogEvent } from "@cloudsession/machine";
import type { StoredEvent } from "@cloudsession/store";
import { edgeTaken } from "./diagram/pathTaken.js";
import type { MachineGraph } from "./diagram/machineGraph.js";
import type { ReplayStep, SessionDetail } from "./protocol.js";
import { summarize } from "./sessionSummary.js";
import { statePath } from "./statePath.js";
import { timelineDetail } from "./timelineDetail.js";

/**
 * One session, from its stored log: the log fed through the machine one event at a time (as
 * `cloudsession replay` does), the state after each event and the diagram edge it took; the
 * timeline; every prompt with its status and answer. `running` says whether an engine behind the
 * dashboard runs it.
 *
 * @throws EngineError `CORRUPTED_LOG` when a row does not decode; Error when the log does not start with `session.requested`.
 * @example
 * const detail = sessionDetail(graph, (await store.readStream(id)).events, engine?.get(id) !== undefined);
 */
export function sessionDetail(graph: MachineGraph, rows: readonly StoredEvent[], running: boolean): SessionDetail {
  const [first, ...rest] = rows;
  if (first === undefined) throw new Error("the log is empty");
  const events: SessionLogEvent[] = rows.map((row) => decodeEvent(row, row));
  const request = events[0];
  if (request?.type !== "session.requested") throw new Error(`session ${first.streamId} does not start with session.requested`);
  const actor = createSessionActor(inputFromRequest(request));
  actor.subscribe({ error: () => undefined });
  const replay: ReplayStep[] = [{ version: 1, event: request.type, at: request.at, state: statePath(actor.getSnapshot().value), edge: null }];
  for (const [index, event] of events.slice(1).entries()) {
    const row = rest[index] as StoredEvent;
    const before = statePath(actor.getSnapshot().value);
    if (event.type === "session.requested") throw new Error(`session ${row.streamId}: event ${row.version} is a second session.requested`);
    // A final state absorbs what follows, as in a replay.
    if (actor.getSnapshot().status === "active") actor.send(event);
    const snapshot = actor.getSnapshot();
    if (snapshot.status === "error") throw snapshot.error instanceof Error ? snapshot.error : new Error(String(snapshot.error));
    const after = statePath(snapshot.value);
    replay.push({ version: row.version, event: event.type, at: event.at, state: after, edge: edgeTaken(graph, before, after, event.type) });
  }
  const snapshot = actor.getSnapshot();
  const last = rows.at(-1) ?? first;
  const summary = summarize(first.streamId, snapshot, { version: last.version, createdAt: first.recordedAt, updatedAt: last.recordedAt });
  return {
    summary: { ...summary, running: running && !summary.final },
    sdkSessionId: snapshot.context.sessionId,
    prompts: snapshot.context.prompts.map((prompt) => ({
      id: prompt.id,
      text: prompt.text,
      status: prompt.status,
      submittedAt: prompt.submittedAt,
      reply: prompt.reply ?? null,
      reason: prompt.reason ?? null,
    })),
    timeline: events.map((event, index) => ({ version: rows[index]?.version ?? index + 1, type: event.type, at: event.at, detail: timelineDetail(event) })),
    replay,
  };
}
