import { formatRepository, lifecycleState, replay } from "@cloudsession/machine";
import { CliError } from "../cliError.js";
import type { CommandContext } from "../commandContext.js";
import { ExitCode } from "../exitCodes.js";
import { withSessionEngine, type SessionCommandFlags } from "../sessionCommand.js";
import { readSessionLog } from "../sessionLog.js";

export interface CloseFlags extends SessionCommandFlags {
  readonly reason?: string;
}

/** The close reason recorded when `--reason` is not given. */
export const defaultCloseReason = "closed with cloudsession close";

/**
 * `cloudsession close <id> [--reason text]`: ends an open session on purpose. The engine resumes it
 * and closes it, so `close.requested` with the reason goes into its log and the session ends
 * `closed` (queued prompts reported undelivered). It needs no runtime that still knows the session:
 * when the one that hosted it is gone (a bundled simulator that ended with its process), the
 * re-attach fails quietly and the close is recorded all the same. A session that has already ended
 * is left as it is (exit 0); a damaged log is refused (exit 6).
 */
export async function closeCommand(id: string, flags: CloseFlags, ctx: CommandContext): Promise<ExitCode> {
  const reason = flags.reason === undefined ? defaultCloseReason : flags.reason.trim();
  if (reason === "") throw new CliError("USAGE", "the reason is empty", { hint: `e.g. ${ctx.command} close ${id} --reason "no longer needed"` });
  return withSessionEngine(
    ctx,
    flags,
    1,
    async (scope) => {
      const log = await readSessionLog(scope.sessions.store, id, ctx.command);
      const stored = replay(log.events);
      if (stored.status !== "active") {
        scope.reporter.notice(`session ${id} has already ended (${lifecycleState(stored)}): nothing to close`);
        return ExitCode.success;
      }
      const handle = await scope.resume(id, { repository: formatRepository(stored.context.repository) });
      const outcome = await handle.close(reason);
      await scope.sessions.engine.settled();
      return scope.finish(handle, outcome, ExitCode.success);
    },
    { needsRuntime: false },
  );
}
