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
 * A session that has already ended just reports its outcome.
 */
export async function resumeCommand(id: string, prompt: string | undefined, flags: SessionCommandFlags, ctx: CommandContext): Promise<ExitCode> {
  if (prompt?.trim() === "") throw new CliError("MISSING_PROMPT", "the prompt is empty");
  return withSessionEngine(ctx, flags, 1, async (scope) => {
    const log = await readSessionLog(scope.sessions.store, id);
    const stored = replay(log.events);
    const repository = formatRepository(stored.context.repository);
    if (stored.status !== "active" && prompt !== undefined) {
      throw new CliError("USAGE", `session ${id} has ended (${lifecycleState(stored)}): it takes no more prompts`, { hint: `start a new one: cloudsession run --repo ${repository} "…"` });
    }
    // A fresh in-process simulator knows no sessions: re-attaching would fail. Say so instead.
    if (scope.runtime.kind === "simulate" && stored.status === "active" && stored.context.sessionId !== null) {
      throw new CliError("RUNTIME_UNAVAILABLE", `session ${id} ran on a simulator that ended with its process, so it cannot be re-attached`, {
        hint: "run `cloudsession sim --port 4321` in another terminal and pass --runtime 127.0.0.1:4321 to run and resume against it",
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
