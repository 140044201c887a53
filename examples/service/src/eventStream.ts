import { decodeEvent, type Engine } from "@cloudsession/engine";
import type { EventStore } from "@cloudsession/store";
import type { ServerResponse } from "node:http";
import { errorAnswer } from "./errorAnswers.js";

export interface EventStreamOptions {
  readonly engine: Engine;
  readonly store: EventStore;
  /** The session (= the log's stream id). */
  readonly id: string;
  /** Send events with a version above this (`Last-Event-ID`); 0 sends the whole log. */
  readonly after: number;
  readonly response: ServerResponse;
  /** How often to look at the log when no live handle in this process announces new events. */
  readonly pollMs?: number;
  /** How often a comment line is written, so idle proxies don't close the connection. Default 15,000. */
  readonly heartbeatMs?: number;
  /** Told when the log cannot be read (the client gets an `error` event); for the service's log. */
  readonly onError?: (error: unknown) => void;
}

/** An open event stream; the service ends them all before it shuts down. */
export interface EventStream {
  /** Resolves when the response has ended (the session ended, the client left, or `close()`). */
  readonly done: Promise<void>;
  close(): void;
}

// #region event-stream
/**
 * Writes a session's log as Server-Sent Events, each with `id:` = the event's version in the
 * stream, so a client that reconnects with `Last-Event-ID: n` gets exactly the events after n.
 *
 * The store is the only source of what is written: the live handle's `events$` is used as a
 * doorbell (an event was recorded), never as data. Each ring reads the log after the last version
 * written, so replay and live cannot leave a gap or repeat an event, whatever the interleaving.
 *
 * A log that cannot be read (damaged, or the store unavailable) ends the stream with an `error`
 * event, `data: { code, message }` and no `id:`, never silently.
 */
export function streamSessionEvents(options: EventStreamOptions): EventStream {
  const { engine, store, id, response } = options;
  let last = options.after;
  let ended = false;
  let reading = false;
  let rangAgain = false;
  let live: { unsubscribe(): void } | undefined;
  let poll: NodeJS.Timeout | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));

  const end = () => {
    if (ended) return;
    ended = true;
    live?.unsubscribe();
    clearTimeout(poll);
    clearInterval(keepAlive);
    response.end();
    resolveDone();
  };

  const ring = () => {
    if (ended) return;
    if (reading) {
      rangAgain = true;
      return;
    }
    reading = true;
    void readNew()
      .catch(fail)
      .finally(() => (reading = false));
  };

  function fail(error: unknown): void {
    if (ended) return; // closed meanwhile (shutdown): the client reconnects elsewhere
    options.onError?.(error);
    const { code, message } = errorAnswer(error);
    response.write(`event: error\ndata: ${JSON.stringify({ code, message })}\n\n`);
    end();
  }

  async function readNew(): Promise<void> {
    do {
      rangAgain = false;
      const stream = await store.readStream(id, { fromVersion: last + 1 });
      for (const row of stream.events) {
        const event = decodeEvent(row, row);
        response.write(`id: ${row.version}\nevent: ${row.type}\ndata: ${JSON.stringify(event)}\n\n`);
        last = row.version;
      }
      if (stream.final && last >= stream.version) return end();
      if (!live) {
        const handle = engine.get(id);
        if (handle) {
          // Anything recorded between the read above and this subscription rings once more below.
          live = handle.events$.subscribe({ next: ring, complete: ring });
          rangAgain = true;
        } else {
          // Not running in this process (yet, or any more): look again later.
          clearTimeout(poll);
          poll = setTimeout(ring, options.pollMs ?? 500);
        }
      }
    } while (rangAgain && !ended);
  }

  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  response.flushHeaders(); // at once, even when nothing is there to send yet (a resume point at the end)
  const keepAlive = setInterval(() => response.write(": keep-alive\n\n"), options.heartbeatMs ?? 15_000);
  response.on("close", end);
  ring();
  return { done, close: end };
}
// #endregion event-stream
