import type { FeedMessage, SessionSummary } from "../src/protocol.js";

/**
 * The page's copy of the sessions list, newest first, kept by the live feed. Views subscribe and
 * redraw on their own schedule.
 */
export class SessionList {
  private readonly byId = new Map<string, SessionSummary>();
  private ordered: SessionSummary[] = [];
  private orderStale = false;
  private readonly listeners = new Set<(changed: readonly SessionSummary[], all: boolean) => void>();
  stalled: string | null = null;
  /** True once the whole list arrived (a big one comes in two parts). */
  loaded = false;

  /** True once some of the list arrived: enough to draw a first screen. */
  get started(): boolean {
    return this.ordered.length > 0 || this.loaded;
  }

  apply(message: FeedMessage): void {
    if (message.kind === "stalled") {
      this.stalled = message.message;
      this.notify([], true);
      return;
    }
    if (message.kind === "snapshot" || message.kind === "more") {
      if (message.kind === "snapshot") {
        this.byId.clear();
        this.ordered = [];
        this.stalled = null;
      }
      for (const session of message.sessions) this.byId.set(session.id, session);
      this.ordered = this.ordered.concat(message.sessions);
      this.loaded = message.complete;
      this.notify(message.sessions, true);
      return;
    }
    for (const session of message.sessions) {
      if (!this.byId.has(session.id)) this.orderStale = true;
      this.byId.set(session.id, session);
    }
    if (!this.orderStale) this.ordered = this.ordered.map((session) => this.byId.get(session.id) ?? session);
    this.notify(message.sessions, false);
  }

  /** Newest first. */
  all(): readonly SessionSummary[] {
    if (this.orderStale) {
      this.ordered = [...this.byId.values()].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
      this.orderStale = false;
    }
    return this.ordered;
  }

  get(id: string): SessionSummary | undefined {
    return this.byId.get(id);
  }

  subscribe(listener: (changed: readonly SessionSummary[], all: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(changed: readonly SessionSummary[], all: boolean): void {
    for (const listener of this.listeners) listener(changed, all);
  }
}
