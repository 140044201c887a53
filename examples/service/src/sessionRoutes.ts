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
  /** The largest prompt, in UTF-8 bytes. */
  readonly maxPromptBytes: number;
}

/**
 * The session API. A Fastify plugin: `app.register(sessionRoutes, { engine, store, streams, … })`.
 *
 * @example
 * app.register(sessionRoutes, { engine, store, streams: new Set(), streamSlots: createEventStreamSlots(500, 16), heartbeatMs: 15_000, maxPromptBytes: 262_144 });
 */
export function sessionRoutes(fastify: FastifyInstance, options: SessionRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { engine, store, streams, streamSlots } = options;

  // #region start-session
  app.post("/sessions", { schema: { body: StartSessionBody } }, async (request, reply) => {
    const { repository, prompts } = request.body;
    checkPromptSizes(prompts, options.maxPromptBytes);
    // 202 only once the session's request and prompts are in the log: an acknowledged start survives a crash.
    const session = await engine.start({ repository, prompts });
    return reply
      .code(202)
      .header("location", `/sessions/${session.id}`)
      .send({ id: session.id, state: session.state, links: { self: `/sessions/${session.id}`, events: `/sessions/${session.id}/events` } });
  });
  // #endregion start-session

  app.post("/sessions/:id/prompts", { schema: { params: SessionParams, body: SendPromptBody } }, async (request, reply) => {
    checkPromptSizes([request.body.prompt], options.maxPromptBytes);
    const session = await liveSession(request.params.id);
    // 202 only once the prompt is in the log (a refused one answers 413, 429 or 503 with its code).
    const promptId = await session.send(request.body.prompt);
    return reply.code(202).send({ id: promptId, session: session.id });
  });

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

/** The engine refuses a prompt over its limit too; checking first keeps a refused request from starting anything. */
function checkPromptSizes(prompts: readonly string[], maxBytes: number): void {
  for (const [index, prompt] of prompts.entries()) {
    const bytes = Buffer.byteLength(prompt, "utf8");
    if (bytes > maxBytes) throw new HttpError(413, "PROMPT_TOO_LARGE", `prompt ${index + 1} is ${bytes} bytes (UTF-8); the limit is ${maxBytes}`);
  }
}

/** Event ids are versions: whole numbers a JavaScript number holds exactly. */
function lastEventId(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header.at(-1) : header;
  if (value === undefined || value === "") return 0;
  const version = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(version)) throw new HttpError(400, "INVALID_LAST_EVENT_ID", "Last-Event-ID must be an event id sent by this stream (a whole number below 2^53)");
  return version;
}
