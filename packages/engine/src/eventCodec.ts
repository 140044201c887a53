import { sessionEventTypes, type SessionLogEvent } from "@cloudsession/machine";
import { EngineError } from "./engineError.js";

/** A domain event as the store keeps it: the type apart, the rest as JSON data. */
export interface EncodedEvent {
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

const knownTypes = new Set<string>(sessionEventTypes);

export function encodeEvent(event: SessionLogEvent): EncodedEvent {
  const { type, ...data } = event;
  return { type, data };
}

/**
 * Turns a stored row back into a domain event, or throws `CORRUPTED_LOG` naming the session and
 * position, so one bad row stops its own session and nothing else.
 */
export function decodeEvent(row: { readonly type: string; readonly data: unknown }, where: { readonly streamId: string; readonly version: number }): SessionLogEvent {
  const problem = (why: string) =>
    new EngineError("CORRUPTED_LOG", `session ${where.streamId}, event ${where.version} (${row.type}): ${why}`);
  if (!knownTypes.has(row.type)) throw problem("unknown event type");
  if (typeof row.data !== "object" || row.data === null || Array.isArray(row.data)) throw problem("data is not an object");
  const data = row.data as Record<string, unknown>;
  if (typeof data.at !== "number" || !Number.isFinite(data.at)) throw problem("missing or invalid `at`");
  if (row.type.startsWith("prompt.") && typeof data.promptId !== "string") throw problem("missing promptId");
  return { ...data, type: row.type } as unknown as SessionLogEvent;
}
