import { isStoreError } from "@cloudsession/store";
import { EngineError } from "./engineError.js";
import type { RunnerOwnership, SessionCommand } from "./runnerEnvironment.js";

/** Where a follower's forwarding stands. */
export interface ForwardingPort {
  readonly id: string;
  /** The session ended here. */
  isEnded(): boolean;
  /** Another runner replaced this follower here: stop trying (the handle turns to that one). */
  isRetired(): boolean;
  /** The engine closed. */
  isDetached(): boolean;
  sleep(ms: number): Promise<void>;
  onBackgroundError(error: unknown): void;
}

/** What became of a forwarded command. */
export type ForwardOutcome =
  /** In the store's command inbox: the owner carries it out. */
  | { readonly kind: "stored" }
  /** Not stored, and no longer tried: the session ended, the follower was replaced, or the engine closed. */
  | { readonly kind: "ended" | "retired" | "detached" }
  /** Not stored: the store kept refusing it (`giveUpAfter`), or refused it for good. */
  | { readonly kind: "failed"; readonly error: unknown };

/**
 * Hands a follower's command to the owning instance through the store. A command the store could
 * not take (a dropped connection, a failover) is tried again, waits doubling from 0.1 s to 1 s: by
 * default for as long as the follower stands for the session here, since an unsent close would
 * leave the caller's `close()` waiting for good; a prompt's caller waits for the outcome instead,
 * so a prompt gives up after `giveUpAfter` tries and is refused (retrying it under the same id is
 * safe: a prompt's command id is its prompt id). Failures of a command tried on are reported once
 * (after {@link FORWARD_REPORT_AFTER} tries) so an outage is visible, and a command still unsent
 * when the engine closes is reported as not delivered.
 */
export async function forwardWithRetry(ownership: RunnerOwnership, command: SessionCommand, port: ForwardingPort, giveUpAfter?: number): Promise<ForwardOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ownership.forward(port.id, command);
      return { kind: "stored" };
    } catch (error) {
      if (isStoreError(error, "STORE_CLOSED") || isStoreError(error, "INVALID_ARGUMENT") || attempt === giveUpAfter) {
        if (giveUpAfter === undefined) port.onBackgroundError(error);
        return { kind: "failed", error };
      }
      if (attempt === FORWARD_REPORT_AFTER && giveUpAfter === undefined) port.onBackgroundError(error);
      await port.sleep(Math.min(FORWARD_RETRY_MAX_WAIT_MS, 100 * 2 ** (attempt - 1)));
      if (port.isEnded()) return { kind: "ended" };
      if (port.isRetired()) return { kind: "retired" };
      if (port.isDetached()) {
        if (giveUpAfter === undefined) port.onBackgroundError(new EngineError("ENGINE_CLOSED", `session ${port.id}: the engine closed before a ${command.type} command could be stored; it was not delivered`, { cause: error }));
        return { kind: "detached" };
      }
    }
  }
}

/** Failed tries at storing a follower's command before the failure is reported (after ~0.7 s); it is tried on. */
export const FORWARD_REPORT_AFTER = 4;

/** The longest wait between two tries at storing a follower's command (the waits double from 0.1 s). */
const FORWARD_RETRY_MAX_WAIT_MS = 1_000;
