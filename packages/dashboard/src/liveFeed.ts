import type { IncomingMessage, ServerResponse } from "node:http";
import type { FeedMessage } from "./protocol.js";
import type { SessionCatalog } from "./sessionCatalog.js";
import type { StoredSummary } from "./sessionSummary.js";
import { baseHeaders } from "./http/responses.js";

export interface LiveFeedOptions {
  readonly catalog: SessionCatalog;
  /** A row as the page receives it (a `SessionSummary`, with whether the engine runs it), as JSON. */
  readonly encode: (summary: StoredSummary) => string;
  /** Changes are gathered this long, then sent as one message. Default 150 ms. */
  readonly intervalMs?: number;
}

/** Rows in a snapshot's first part: more than a tall screen shows. */
const FIRST_SCREEN_ROWS = 200;

/** An open feed; `close()` ends the response (the page reconnects on its own). */
export interface LiveFeed {
  close(): void;
  readonly done: Promise<void>;
}

/**
 * Streams the sessions list to one page as Server-Sent Events: the whole list first (the newest
 * 200 rows, then the rest, so a big store's first screen does not wait), then the sessions that changed, gathered for `intervalMs` (100 changes a second make a few small messages,
 * not a hundred). A reconnect starts again with the whole list, so nothing is lost in between.
 */
export function openLiveFeed(request: IncomingMessage, response: ServerResponse, options: LiveFeedOptions): LiveFeed {
  const { catalog, encode } = options;
  const intervalMs = options.intervalMs ?? 150;
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));

  const send = (message: FeedMessage): void => {
    response.write(`data: ${JSON.stringify(message)}\n\n`);
  };
  /** A list message, assembled from each row's JSON (rows are encoded once, not once per page). */
  const sendRows = (kind: "snapshot" | "more" | "changes", rows: readonly StoredSummary[], complete?: boolean): void => {
    response.write(`data: {"kind":"${kind}","sessions":[${rows.map(encode).join(",")}]${complete === undefined ? "" : `,"complete":${complete}`}}\n\n`);
  };
  const flush = (): void => {
    timer = undefined;
    const rows: StoredSummary[] = [];
    for (const id of changed) {
      const summary = catalog.get(id);
      if (summary !== undefined) rows.push(summary);
    }
    changed.clear();
    if (rows.length > 0) sendRows("changes", rows);
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
  const all = catalog.list();
  sendRows("snapshot", all.slice(0, FIRST_SCREEN_ROWS), all.length <= FIRST_SCREEN_ROWS);
  // The rest after a turn of the event loop, so the first part is on the wire while it is encoded.
  if (all.length > FIRST_SCREEN_ROWS) {
    setImmediate(() => {
      if (!ended) sendRows("more", all.slice(FIRST_SCREEN_ROWS), true);
    });
  }
  if (catalog.stalled !== undefined) send({ kind: "stalled", message: catalog.stalled });
  // A comment now and then keeps idle proxies from closing the stream.
  const heartbeat = setInterval(() => response.write(": keep-alive\n\n"), 15_000);
  heartbeat.unref();
  request.once("close", close);
  response.once("error", close);
  return { close, done };
}
