import { isEngineError, type Engine, type EngineErrorCode, type SessionHandle } from "@cloudsession/engine";
import { DashboardError } from "./dashboardError.js";
import type { ApiError } from "./protocol.js";

/** What the dashboard needs of an engine: the sessions it runs. */
export type DashboardEngine = Pick<Engine, "get">;

/** The handle of a session the engine runs and that has not ended, or a 409 saying there is none. */
export function runningSession(engine: DashboardEngine | undefined, id: string): SessionHandle {
  const handle = engine?.get(id);
  if (handle === undefined || handle.snapshot().status !== "active") {
    throw new DashboardError("SESSION_NOT_RUNNING", 409, engine === undefined ? "this dashboard has no engine: it shows sessions, it does not act on them" : `session ${id} is not running in this engine`);
  }
  return handle;
}

/**
 * Queues a prompt through the engine; resolves with its id once the prompt is in the log (the
 * engine's durable acknowledgement). `promptId`, when the page gives one, makes a retried request
 * idempotent: a prompt already recorded under it is not added twice.
 */
export async function sendPrompt(engine: DashboardEngine | undefined, id: string, text: string, promptId?: string): Promise<string> {
  const handle = runningSession(engine, id);
  return await handle.send(text, promptId === undefined ? undefined : { promptId });
}

/** Asks the engine to abort the session's running turn, if any. */
export async function abortTurn(engine: DashboardEngine | undefined, id: string): Promise<void> {
  await runningSession(engine, id).abortTurn();
}

/** Closes the session through the engine; resolves with its final state. */
export async function closeSession(engine: DashboardEngine | undefined, id: string): Promise<string> {
  const outcome = await runningSession(engine, id).close("closed from the dashboard");
  return outcome.state;
}

const engineStatus: Record<EngineErrorCode, number> = {
  INVALID_REPOSITORY: 400,
  INVALID_ARGUMENT: 400,
  SESSION_ENDED: 409,
  SESSION_NOT_FOUND: 404,
  SESSION_OWNED_ELSEWHERE: 409,
  ENGINE_CLOSED: 503,
  CORRUPTED_LOG: 500,
  QUEUE_FULL: 429,
  PROMPT_TOO_LARGE: 413,
  ENGINE_BUSY: 429,
  STORE_UNAVAILABLE: 503,
};

/**
 * An error as the page receives it: the dashboard's and the engine's refusals keep their status and
 * code (`retryAfterMs` included); anything else is a 500 with its message.
 */
export function toApiError(error: unknown): { status: number; body: ApiError } {
  if (error instanceof DashboardError) return { status: error.status, body: { code: error.code, message: error.message } };
  if (isEngineError(error)) {
    return { status: engineStatus[error.code], body: { code: error.code, message: error.message, ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }) } };
  }
  return { status: 500, body: { code: "INTERNAL", message: error instanceof Error ? error.message : String(error) } };
}
