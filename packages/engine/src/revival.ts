import type { JsonObject } from "@cloudsession/store";
import { isEngineError } from "./engineError.js";
import type { RunnerEnvironment } from "./runnerEnvironment.js";
import { loadRunner } from "./sessionLogs.js";
import type { SessionRegistry } from "./sessionRegistry.js";
import { SessionRunner } from "./sessionRunner.js";

/** The first wait before a session whose append failed is continued from its log. */
const REVIVE_FIRST_WAIT_MS = 500;
/** The longest wait between two tries at continuing it. */
const REVIVE_MAX_WAIT_MS = 10_000;

/**
 * Single instance: a session whose runner stopped on a failed append (its machine is ahead of the
 * log) is continued by a new runner restored from the log, once the store answers again: the
 * handle re-submits the prompts it sent that the log lacks, and a close; the session's history
 * on the runtime settles the rest. Waits double from 0.5 s to 10 s while the store stays away and
 * while a revived session keeps failing without getting any further in its log.
 */
export class Revival {
  /** Per session: the log version at its last revival and how many came since without progress. */
  private readonly rounds = new Map<string, { version: number; round: number }>();

  constructor(
    private readonly env: RunnerEnvironment,
    private readonly registry: SessionRegistry,
    /** Recorded with a session begun again. */
    private readonly identity: JsonObject,
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
        let loaded: Awaited<ReturnType<typeof loadRunner>> | undefined;
        try {
          loaded = await loadRunner(this.env, id);
        } catch (error) {
          // Never written (its first append failed): the session begins again. Otherwise the
          // store is still away (its failure was reported when the append failed): wait on.
          if (!isEngineError(error, "SESSION_NOT_FOUND") || failed.appliedVersion > 0) continue;
        }
        if (this.isClosed() || this.registry.body(id) !== failed) return;
        if (loaded === undefined) {
          this.registry.replace(SessionRunner.beginAgain(this.env, failed, this.identity), []);
          return;
        }
        this.registry.replace(loaded.runner, loaded.log);
        await loaded.runner.attach();
        return;
      }
    })().catch((error: unknown) => this.env.onBackgroundError(error, id));
  }
}
