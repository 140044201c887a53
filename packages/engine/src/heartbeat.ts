import type { Clock } from "./clock.js";
import type { RuntimeConnectionManager } from "./runtimeConnection.js";
import type { SessionRunner } from "./sessionRunner.js";

/** What the heartbeat watches over. */
export interface HeartbeatTarget {
  readonly clock: Clock;
  readonly runtime: RuntimeConnectionManager;
  /** The sessions attached to the runtime now (owned here, reserved, not ended). */
  liveSessions(): SessionRunner[];
  isClosed(): boolean;
}

/**
 * Checks a quiet runtime connection every `periodMs` and replaces it when it is gone (a refused
 * ping) or does not answer twice running; the live sessions then re-attach to the new one. A
 * closed transport is noticed at once without it (see `watchConnection`): this is for the silent
 * cases, a half-open TCP connection or a frozen runtime. Off when `periodMs` is 0 or the engine
 * cannot reconnect (a client handed in).
 */
export function startHeartbeat(periodMs: number, target: HeartbeatTarget): { stop(): void } {
  const { clock, runtime } = target;
  if (periodMs <= 0 || !runtime.canReconnect) return { stop: () => undefined };
  let handle: unknown;
  let beating = false;
  let slowAnswers = 0;
  const beat = async () => {
    if (target.isClosed() || beating) return;
    beating = true;
    try {
      const live = target.liveSessions();
      // Events flowing prove the connection alive; a ping queued behind thousands of requests
      // would only measure the load, so ping a quiet connection only.
      const quiet = clock.now() - runtime.lastActivity >= periodMs;
      const health = live.length === 0 || !quiet ? "ok" : await runtime.health(Math.max(5_000, 2 * periodMs));
      slowAnswers = health === "timeout" ? slowAnswers + 1 : 0;
      // A refused ping means the connection is gone; one slow answer may be a busy event loop.
      if (health === "failed" || slowAnswers >= 2) {
        slowAnswers = 0;
        // The runtime connection tells its listeners (the engine re-attaches the live sessions).
        await runtime.replace();
      }
    } finally {
      beating = false;
      if (!target.isClosed()) handle = clock.setTimeout(() => void beat(), periodMs);
    }
  };
  handle = clock.setTimeout(() => void beat(), periodMs);
  return { stop: () => clock.clearTimeout(handle) };
}
