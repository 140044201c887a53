import { isEngineError, type Engine, type SessionHandle } from "@cloudsession/engine";
import { replay } from "@cloudsession/machine";
import type { EventStore } from "@cloudsession/store";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { streamSessionEvents, type EventStream } from "./eventStream.js";
import type { EventStreamSlots } from "./eventStreamSlots.js";
import { HttpError } from "./httpError.js";
import { SendPromptBody, SessionParams, StartSessionBody } from "./schemas.js";
import { sessionView, type SessionView } from "./sessionView.js";

export interface SessionRoutesOptions {
  readonly engine: Engine;
  readonly store: EventStore;
  /** Open event streams, so a shutdown can end them. */
  readonly streams: Set<EventStream>;
  /** Caps on open event streams, in all and per client. */
  readonly streamSlots: EventStreamSlots;
  /** An open event stream's heartbeat period, in ms. */
  readonly heartbeatMs: number;
}

/**
 * The session API. A Fastify plugin: `app.register(sessionRoutes, { engine, store, streams, … })`.
 * What it accepts at most (queued prompts, a prompt's bytes, sessions waiting for a slot) is the
 * engine's `limits`; its refusals answer 429 / 413 with their codes.
 *
 * @example
 * app.register(sessionRoutes, { engine, store, streams: new Set(), streamSlots: createEventStreamSlots(500, 16), heartbeatMs: 15_000 });
 */
export function sessionRoutes(fastify: FastifyInstance, options: SessionRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { engine, store, streams, streamSlots } = options;

  // #region start-session
  app.post("/sessions", { schema: { body: StartSessionBody } }, async (request, reply) => {
    const { repository, prompts } = request.body;
    // 202 only once the session's request and prompts are in the log: an acknowledged start survives a crash.
    const session = await engine.start({ repository, prompts });
    return reply
      .code(202)
      .header("location", `/sessions/${session.id}`)
      .send({ id: session.id, state: session.state, links: { self: `/sessions/${session.id}`, events: `/sessions/${session.id}/events` } });
  });
  // #endregion start-session

  // #region send-prompt
  app.post("/sessions/:id/prompts", { schema: { params: SessionParams, body: SendPromptBody } }, async (request, reply) => {
    const { prompt, id } = request.body;
    const session = await liveSession(request.params.id);
    if (id !== undefined) refuseReusedPromptId(session, id, prompt);
    // 202 only once the prompt is in the log (a refused one answers 413, 429 or 503 with its code);
    // a retry under an id the log already has adds nothing and is answered the same.
    const promptId = await session.send(prompt, id === undefined ? {} : { promptId: id });
    return reply.code(202).send({ id: promptId, session: session.id });
  });
  // #endregion send-prompt

  app.get("/sessions/:id", { schema: { params: SessionParams } }, async (request) => view(request.params.id));

  // #region session-events
  app.get("/sessions/:id/events", { schema: { params: SessionParams } }, async (request, reply) => {
    const { id } = request.params;
    const after = lastEventId(request.headers["last-event-id"]);
    const head = await store.readStream(id, { maxCount: 1 });
    if (!head.exists) throw notFound(id);
    const release = streamSlots.take(request.ip); // 429 / 503 over the caps
    try {
      reply.hijack(); // from here on the raw response is ours
      const onError = (error: unknown) => request.log.error({ err: error }, "event stream ended: the log cannot be read");
      const stream = streamSessionEvents({ engine, store, id, after, response: reply.raw, heartbeatMs: options.heartbeatMs, onError });
      streams.add(stream);
      await stream.done;
      streams.delete(stream);
    } finally {
      release();
    }
  });
  // #endregion session-events

  app.delete("/sessions/:id", { schema: { params: SessionParams } }, async (request) => {
    const session = await liveSession(request.params.id);
    await session.close("closed through the API");
    return view(session.id);
  });

  /** The running handle; an open session this process is not running yet is resumed. */
  async function liveSession(id: string): Promise<SessionHandle> {
    const running = engine.get(id);
    if (running) return running;
    const stream = await store.readStream(id, { maxCount: 1 });
    if (!stream.exists) throw notFound(id);
    if (stream.final) throw new HttpError(409, "SESSION_ENDED", `session ${id} has ended`);
    return engine.resume(id);
  }

  async function view(id: string): Promise<SessionView> {
    const running = engine.get(id);
    if (running) return sessionView(id, running.snapshot());
    try {
      return sessionView(id, replay(await engine.history(id)));
    } catch (error) {
      if (isEngineError(error, "SESSION_NOT_FOUND")) throw notFound(id);
      throw error;
    }
  }
  return Promise.resolve();
}

function notFound(id: string): HttpError {
  return new HttpError(404, "SESSION_NOT_FOUND", `no session ${id}`);
}

/** An id names one prompt: a retry carries the same text, anything else is a client's mistake that would be lost silently. */
function refuseReusedPromptId(session: SessionHandle, id: string, text: string): void {
  const recorded = session.snapshot().context.prompts.get(id);
  if (recorded !== undefined && recorded.text !== text) throw new HttpError(409, "PROMPT_ID_REUSED", `session ${session.id} already has a prompt ${id} with another text`);
}

/** Event ids are versions: whole numbers a JavaScript number holds exactly. */
function lastEventId(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header.at(-1) : header;
  if (value === undefined || value === "") return 0;
  const version = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(version)) throw new HttpError(400, "INVALID_LAST_EVENT_ID", "Last-Event-ID must be an event id sent by this stream (a whole number below 2^53)");
  return version;
}
