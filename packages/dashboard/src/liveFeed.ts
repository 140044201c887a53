import type { IncomingMessage, ServerResponse } from "node:http";
import type { FeedMessage, SessionSummary } from "./protocol.js";
import type { SessionCatalog } from "./sessionCatalog.js";
import type { StoredSummary } from "./sessionSummary.js";
import { baseHeaders } from "./http/responses.js";

export interface LiveFeedOptions {
  readonly catalog: SessionCatalog;
  /** Adds whether the engine runs the session. */
  readonly serve: (summary: StoredSummary) => SessionSummary;
  /** Changes are gathered this long, then sent as one message. Default 150 ms. */
  readonly intervalMs?: number;
}

/** An open feed; `close()` ends the response (the page reconnects on its own). */
export interface LiveFeed {
  close(): void;
  readonly done: Promise<void>;
}

/**
 * Streams the sessions list to one page as Server-Sent Events: the whole list first, then the
 * sessions that changed, gathered for `intervalMs` (100 changes a second make a few small messages,
 * not a hundred). A reconnect starts again with the whole list, so nothing is lost in between.
 */
export function openLiveFeed(request: IncomingMessage, response: ServerResponse, options: LiveFeedOptions): LiveFeed {
  const { catalog, serve } = options;
  const intervalMs = options.intervalMs ?? 150;
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));

  const send = (message: FeedMessage): void => {
    response.write(`data: ${JSON.stringify(message)}\n\n`);
  };
  const flush = (): void => {
    timer = undefined;
    const sessions: SessionSummary[] = [];
    for (const id of changed) {
      const summary = catalog.get(id);
      if (summary !== undefined) sessions.push(serve(summary));
    }
    changed.clear();
    if (sessions.length > 0) send({ kind: "changes", sessions });
  };
  const close = (): void => {
    if (ended) return;
    ended = true;
    unsubscribe();
    unsubscribeStall();
    clearTimeout(timer);
    clearInterval(heartbeat);
    response.end();
    finish();
  };

  response.writeHead(200, { ...baseHeaders("text/event-stream; charset=utf-8"), "cache-control": "no-store", connection: "keep-alive", "x-accel-buffering": "no" });
  // A reconnecting page waits a second, not the browser's default three.
  response.write("retry: 1000\n\n");
  const unsubscribe = catalog.onChange((summary) => {
    changed.add(summary.id);
    timer ??= setTimeout(flush, intervalMs);
  });
  const unsubscribeStall = catalog.onStalled((message) => send({ kind: "stalled", message }));
  send({ kind: "snapshot", sessions: catalog.list().map(serve) });
  if (catalog.stalled !== undefined) send({ kind: "stalled", message: catalog.stalled });
  // A comment now and then keeps idle proxies from closing the stream.
  const heartbeat = setInterval(() => response.write(": keep-alive\n\n"), 15_000);
  heartbeat.unref();
  request.once("close", close);
  response.once("error", close);
  return { close, done };
}
