import { isStoreError } from "@cloudsession/store";
import { isEngineError } from "./engineError.js";
import type { RunnerEnvironment } from "./runnerEnvironment.js";
import type { SessionRegistry } from "./sessionRegistry.js";
import { SessionRunner } from "./sessionRunner.js";

/** The first wait before a session whose append failed is continued from its log. */
const REVIVE_FIRST_WAIT_MS = 500;
/** The longest wait between two tries at continuing it. */
const REVIVE_MAX_WAIT_MS = 10_000;

/** Why a session whose start was refused is ended, should its first append have landed after all. */
export const UNACKNOWLEDGED_START = "its start was not acknowledged: the store failed while recording it";

/**
 * Single instance: a session whose runner stopped on a failed append (its machine is ahead of the
 * log) is continued by a new runner restored from the log, once the store answers again; the
 * session's history on the runtime settles the rest, and its handle carries a close or an abort
 * over. Waits double from 0.5 s to 10 s while the store stays away and while a revived session
 * keeps failing without getting any further in its log.
 */
export class Revival {
  /** Per session: the log version at its last revival and how many came since without progress. */
  private readonly rounds = new Map<string, { version: number; round: number }>();

  constructor(
    private readonly env: RunnerEnvironment,
    private readonly registry: SessionRegistry,
    private readonly isClosed: () => boolean,
  ) {}

  /** The session ended: its revival count goes. */
  forget(id: string): void {
    this.rounds.delete(id);
  }

  /** The runner of session `id` stopped on a failed append: continue it from the log. */
  revive(id: string): void {
    const failed = this.registry.body(id);
    if (failed === undefined || failed.isFollower || this.isClosed()) return;
    const previous = this.rounds.get(id);
    const progressed = previous === undefined || failed.appliedVersion > previous.version;
    const round = progressed ? 0 : previous.round + 1;
    this.rounds.set(id, { version: failed.appliedVersion, round });
    void (async () => {
      await failed.detach();
      for (let attempt = round; ; attempt++) {
        await new Promise<void>((resolve) => this.env.clock.setTimeout(resolve, Math.min(REVIVE_MAX_WAIT_MS, REVIVE_FIRST_WAIT_MS * 2 ** attempt)));
        if (this.isClosed() || this.registry.body(id) !== failed) return;
        let loaded: Awaited<ReturnType<typeof SessionRunner.load>>;
        try {
          loaded = await SessionRunner.load(this.env, id);
        } catch (error) {
          // A damaged log is left alone: reported once, never acted on.
          if (isDamaged(error)) {
            this.env.onBackgroundError(error, id);
            return;
          }
          // The store is still away (its failure was reported when the append failed): wait on.
          continue;
        }
        if (this.isClosed() || this.registry.body(id) !== failed) return;
        this.registry.replace(loaded.runner, loaded.log);
        await loaded.runner.attach();
        return;
      }
    })().catch((error: unknown) => this.env.onBackgroundError(error, id));
  }

  /**
   * A new session whose first append failed: its caller was told no (`engine.start` rejected), so
   * it never runs. Should the append have landed after all (the store failed after committing),
   * the session is ended unrun as soon as the store answers, so a later recovery does not start it.
   */
  withdraw(failed: SessionRunner): void {
    const id = failed.id;
    void (async () => {
      await failed.detach();
      for (let attempt = 0; !this.isClosed(); attempt++) {
        await new Promise<void>((resolve) => this.env.clock.setTimeout(resolve, Math.min(REVIVE_MAX_WAIT_MS, REVIVE_FIRST_WAIT_MS * 2 ** attempt)));
        try {
          const { runner } = await SessionRunner.load(this.env, id);
          if (await runner.endUnattached(UNACKNOWLEDGED_START)) return;
        } catch (error) {
          if (isEngineError(error, "SESSION_NOT_FOUND")) return; // nothing was written: nothing to undo
          if (isDamaged(error)) {
            this.env.onBackgroundError(error, id);
            return;
          }
        }
      }
    })().catch((error: unknown) => this.env.onBackgroundError(error, id));
  }
}

/** A log the store or the engine found damaged: reported once, never acted on. */
export function isDamaged(error: unknown): boolean {
  return isEngineError(error, "CORRUPTED_LOG") || isStoreError(error, "CORRUPTED_LOG") || isStoreError(error, "CORRUPTED_EVENT");
}
