import { decodeEvent } from "@cloudsession/engine";
import { createSessionActor, inputFromRequest, type SessionActor } from "@cloudsession/machine";
import type { EventStore, StoredEvent, Subscription } from "@cloudsession/store";
import { summarize, type StoredSummary } from "./sessionSummary.js";

/**
 * Every session in a store and where it stands, kept current from the store's subscription: the
 * sessions list's model. Nothing here asks an engine: it works on any store, engine or not.
 */
export interface SessionCatalog {
  /** Settles once every session the store listed at opening is folded in (or the subscription stopped). Never rejects. */
  readonly ready: Promise<void>;
  /** Newest first. */
  list(): StoredSummary[];
  get(id: string): StoredSummary | undefined;
  /** Told about every session that changes (a new session included), once ready. Returns an unsubscribe. */
  onChange(listener: (summary: StoredSummary) => void): () => void;
  /** Why the store's subscription ended, if it did: the list stops updating. */
  readonly stalled: string | undefined;
  /** Told once, when the list stops updating. Returns an unsubscribe. */
  onStalled(listener: (reason: string) => void): () => void;
  close(): Promise<void>;
}

export interface SessionCatalogOptions {
  /** Events per read while catching up; default 2,000. */
  readonly batchSize?: number;
}

interface Entry {
  /** Only while the session is live: a final session's summary never changes again. */
  actor: SessionActor | undefined;
  summary: StoredSummary;
}

/**
 * Opens a catalog: `listStreams` names the sessions there are and how far their logs go (what
 * "ready" waits for), and one subscription from the start of the store folds every event into a
 * machine per live session (the light session actor, as `replay` does) — so the first picture and
 * every later change come from the same, exactly-once, ordered source.
 *
 * @example
 * const catalog = openSessionCatalog(store);
 * await catalog.ready;
 * console.log(catalog.list().map((session) => `${session.id} ${session.state}`));
 */
export function openSessionCatalog(store: EventStore, options: SessionCatalogOptions = {}): SessionCatalog {
  const entries = new Map<string, Entry>();
  /** Creation order, oldest first. */
  const order: string[] = [];
  const listeners = new Set<(summary: StoredSummary) => void>();
  let subscription: Subscription | undefined;
  let stalled: string | undefined;
  const stallListeners = new Set<(reason: string) => void>();
  const stall = (reason: string): void => {
    stalled = reason;
    for (const listener of stallListeners) listener(reason);
  };
  let closed = false;
  // A function, not the variable, where it is read after an await: close() flips it meanwhile.
  const isClosed = (): boolean => closed;
  let isReady = false;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = () => {
      isReady = true;
      resolve();
    };
  });
  /** Sessions listed at opening whose log has not been folded up to the listed version yet. */
  let pending: Map<string, number> | undefined;

  const changed = (entry: Entry): void => {
    const target = pending?.get(entry.summary.id);
    if (target !== undefined && entry.summary.version >= target) {
      pending?.delete(entry.summary.id);
      if (pending?.size === 0) markReady();
    }
    if (!isReady) return;
    for (const listener of listeners) listener(entry.summary);
  };

  const apply = (row: StoredEvent): void => {
    const entry = entries.get(row.streamId);
    if (entry === undefined) {
      // Other kinds of streams share the store; a session's log starts with its request.
      if (row.version !== 1 || row.type !== "session.requested") return;
      entries.set(row.streamId, start(row));
      order.push(row.streamId);
      changed(entries.get(row.streamId) as Entry);
      return;
    }
    if (row.version <= entry.summary.version) return;
    const position = { version: row.version, createdAt: entry.summary.createdAt, updatedAt: row.recordedAt };
    if (entry.actor === undefined || entry.summary.damaged !== null) {
      entry.summary = { ...entry.summary, ...position };
    } else {
      try {
        const event = decodeEvent(row, row);
        if (event.type === "session.requested") throw new Error(`event ${row.version} is a second session.requested`);
        entry.actor.send(event);
        const snapshot = entry.actor.getSnapshot();
        if (snapshot.status === "error") throw snapshot.error;
        entry.summary = summarize(row.streamId, snapshot, position);
        if (snapshot.status !== "active") entry.actor = undefined;
      } catch (error) {
        entry.summary = { ...entry.summary, ...position, damaged: messageOf(error) };
        entry.actor = undefined;
      }
    }
    changed(entry);
  };

  const start = (row: StoredEvent): Entry => {
    const position = { version: 1, createdAt: row.recordedAt, updatedAt: row.recordedAt };
    try {
      const request = decodeEvent(row, row);
      if (request.type !== "session.requested") throw new Error("the log does not start with session.requested");
      const actor = createSessionActor(inputFromRequest(request));
      // An observer with an error handler: a transition that throws marks this session damaged, nothing more.
      actor.subscribe({ error: () => undefined });
      return { actor, summary: summarize(row.streamId, actor.getSnapshot(), position) };
    } catch (error) {
      const data = row.data as { repository?: { owner?: unknown; name?: unknown } } | null;
      const part = (value: unknown): string => (typeof value === "string" ? value : "?");
      const repository = `${part(data?.repository?.owner)}/${part(data?.repository?.name)}`;
      return {
        actor: undefined,
        summary: { id: row.streamId, repository, state: "failed", statePath: "failed", final: true, ...position, prompts: { delivered: 0, queued: 0, undelivered: 0 }, remoteUrl: null, failure: null, closeReason: null, damaged: messageOf(error) },
      };
    }
  };

  void (async () => {
    try {
      const streams = await store.listStreams({ status: "all" });
      pending = new Map(streams.filter((stream) => stream.firstEventType === "session.requested").map((stream) => [stream.streamId, stream.version]));
    } catch (error) {
      stall(`the store could not list its sessions: ${messageOf(error)}`);
      markReady();
      return;
    }
    if (pending.size === 0) markReady();
    if (isClosed()) return;
    subscription = store.subscribe(apply, { batchSize: options.batchSize ?? 2_000 });
    subscription.done.then(
      () => markReady(),
      (error: unknown) => {
        if (!isClosed()) stall(`the store's subscription stopped: ${messageOf(error)}`);
        markReady();
      },
    );
  })();

  return {
    ready,
    list: () => {
      const rows: StoredSummary[] = [];
      for (let index = order.length - 1; index >= 0; index -= 1) {
        const entry = entries.get(order[index] as string);
        if (entry !== undefined) rows.push(entry.summary);
      }
      return rows;
    },
    get: (id) => entries.get(id)?.summary,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get stalled() {
      return stalled;
    },
    onStalled(listener) {
      stallListeners.add(listener);
      return () => stallListeners.delete(listener);
    },
    async close() {
      closed = true;
      listeners.clear();
      stallListeners.clear();
      await subscription?.close();
      markReady();
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
