import type { SessionEvent } from "@github/copilot-sdk";

/** Every event one session delivered, in arrival order, with a time-boxed wait. */
export interface SessionRecorder {
  readonly events: SessionEvent[];
  /** Feed it from `createSession({ onEvent })` so events delivered during the create are kept. */
  readonly push: (event: SessionEvent) => void;
  /** Resolves with the first event (at or after index `from`) matching `predicate`; rejects after `timeoutMs`. */
  waitFor(predicate: (event: SessionEvent) => boolean, options?: { readonly from?: number; readonly timeoutMs?: number }): Promise<SessionEvent>;
}

/**
 * Records a session's events and lets a script wait for one, never forever.
 *
 * @example
 * const recorder = recordEvents();
 * const session = await client.createSession({ onEvent: recorder.push, onPermissionRequest: approveAll });
 * await recorder.waitFor((e) => e.type === "session.start");
 */
export function recordEvents(): SessionRecorder {
  const events: SessionEvent[] = [];
  const waiters: { from: number; predicate: (e: SessionEvent) => boolean; resolve: (e: SessionEvent) => void }[] = [];
  const push = (event: SessionEvent): void => {
    events.push(event);
    const index = events.length - 1;
    for (const waiter of [...waiters]) {
      if (index >= waiter.from && waiter.predicate(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  };
  return {
    events,
    push,
    waitFor(predicate, options = {}) {
      const from = options.from ?? 0;
      const timeoutMs = options.timeoutMs ?? 30_000;
      const found = events.slice(from).find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise<SessionEvent>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no matching event within ${timeoutMs} ms; saw ${events.slice(from).map((e) => e.type).join(", ")}`));
        }, timeoutMs);
        const waiter = { from, predicate, resolve: (e: SessionEvent) => { clearTimeout(timer); resolve(e); } };
        waiters.push(waiter);
      });
    },
  };
}
