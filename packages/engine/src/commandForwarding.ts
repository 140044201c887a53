import { isStoreError } from "@cloudsession/store";
import { EngineError } from "./engineError.js";
import type { RunnerOwnership, SessionCommand } from "./runnerEnvironment.js";

/** Where a follower's forwarding stands. */
export interface ForwardingPort {
  readonly id: string;
  /** The session ended, or another runner replaced this follower here: stop trying. */
  isDone(): boolean;
  /** The engine closed: report the command as not delivered and stop. */
  isDetached(): boolean;
  sleep(ms: number): Promise<void>;
  onBackgroundError(error: unknown): void;
}

/**
 * Hands a follower's command to the owning instance through the store. A command the store could
 * not take (a dropped connection, a failover) is tried again for as long as the follower stands for
 * the session here: unsent, a close would leave the caller's `close()` waiting for good and a prompt
 * would be lost. The first failures are reported once (after {@link FORWARD_REPORT_AFTER} tries) so
 * an outage is visible; a command still unsent when the engine closes is reported as not
 * delivered. A follower replaced by another runner stops: the handle re-submits unconfirmed prompts
 * and a close to the new one. Issuing is idempotent for prompts (their id is the key); a second
 * close or abort is harmless to the owner.
 */
export async function forwardWithRetry(ownership: RunnerOwnership, command: SessionCommand, port: ForwardingPort): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ownership.forward(port.id, command);
      return;
    } catch (error) {
      if (isStoreError(error, "STORE_CLOSED") || isStoreError(error, "INVALID_ARGUMENT")) {
        port.onBackgroundError(error);
        return;
      }
      if (attempt === FORWARD_REPORT_AFTER) port.onBackgroundError(error);
      await port.sleep(Math.min(FORWARD_RETRY_MAX_WAIT_MS, 100 * 2 ** (attempt - 1)));
      if (port.isDone()) return;
      if (port.isDetached()) {
        port.onBackgroundError(new EngineError("ENGINE_CLOSED", `session ${port.id}: the engine closed before a ${command.type} command could be stored; it was not delivered`, { cause: error }));
        return;
      }
    }
  }
}

/** Failed tries at storing a follower's command before the failure is reported (after ~0.7 s); it is tried on. */
const FORWARD_REPORT_AFTER = 4;

/** The longest wait between two tries at storing a follower's command (the waits double from 0.1 s). */
const FORWARD_RETRY_MAX_WAIT_MS = 1_000;
