import { formatRepository, lifecycleState, replay } from "@cloudsession/machine";
import { CliError } from "../cliError.js";
import type { CommandContext } from "../commandContext.js";
import { driveSession } from "../driveSession.js";
import type { ExitCode } from "../exitCodes.js";
import { withSessionEngine, type SessionCommandFlags } from "../sessionCommand.js";
import { readSessionLog } from "../sessionLog.js";

/**
 * `cloudsession resume <id> ["prompt"]`: continues a stored session (re-attaching to its SDK
 * session, never passing `cloud`), delivers what is queued plus the new prompt, then closes it.
 * A session that has already ended just reports its outcome. One that cannot be continued (it ran
 * on a bundled simulator, gone with its process) is refused, saying how to end it.
 */
export async function resumeCommand(id: string, prompt: string | undefined, flags: SessionCommandFlags, ctx: CommandContext): Promise<ExitCode> {
  if (prompt?.trim() === "") throw new CliError("MISSING_PROMPT", "the prompt is empty");
  return withSessionEngine(ctx, flags, 1, async (scope) => {
    const log = await readSessionLog(scope.sessions.store, id, ctx.command);
    const stored = replay(log.events);
    const repository = formatRepository(stored.context.repository);
    if (stored.status !== "active" && prompt !== undefined) {
      throw new CliError("USAGE", `session ${id} has ended (${lifecycleState(stored)}): it takes no more prompts`, { hint: `start a new one: ${ctx.command} run --repo ${repository} "…"` });
    }
    // A fresh in-process simulator knows no sessions: re-attaching would fail for good. Say so instead.
    if (scope.runtime.kind === "simulate" && stored.status === "active" && stored.context.sessionId !== null) {
      throw new CliError("SESSION_NOT_RESUMABLE", `session ${id} cannot be resumed here: the bundled simulator starts empty in every process, so it cannot re-attach a session of an earlier run`, {
        hint: `if the session ran on the bundled simulator, that simulator ended with its process and nothing can continue it: end it with \`${ctx.command} close ${id}\`. If it ran on \`${ctx.command} sim\` or the real runtime, pass the same --runtime host:port, or --live.`,
      });
    }
    const handle = await scope.resume(id, { repository });
    if (prompt !== undefined) await handle.send(prompt);
    const expected = handle.snapshot().context.prompts.length;
    const outcome = await driveSession(handle, expected, "all prompts answered (resumed)");
    await scope.sessions.engine.settled();
    return scope.finish(handle, outcome);
  });
}
