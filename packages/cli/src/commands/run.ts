import { formatRepository, parseRepository } from "@cloudsession/machine";
import { CliError } from "../cliError.js";
import type { CommandContext } from "../commandContext.js";
import { driveSession } from "../driveSession.js";
import type { ExitCode } from "../exitCodes.js";
import { readPromptFiles } from "../promptFiles.js";
import { withSessionEngine, type SessionCommandFlags } from "../sessionCommand.js";

export interface RunFlags extends SessionCommandFlags {
  readonly repo?: string;
  /** `--prompt-file`, repeatable: one prompt per file (`-`: standard input), after the positional ones. */
  readonly promptFile?: readonly string[];
}

/** How to pass a repository, shown whenever one is missing or wrong. */
export function repoHint(command: string): string {
  return `pass --repo owner/name (or owner/name@branch), e.g. ${command} run --repo octo/demo "Summarise the README"`;
}

/**
 * `cloudsession run --repo owner/name[@branch] "prompt" ["next prompt" …] [--prompt-file path …]`: starts a cloud session,
 * queues the prompts, shows it live, closes it once the last prompt's turn completed, and exits
 * with the outcome's code.
 */
export async function runCommand(prompts: readonly string[], flags: RunFlags, ctx: CommandContext): Promise<ExitCode> {
  if (flags.repo === undefined || flags.repo === "") throw new CliError("MISSING_REPOSITORY", "no repository given: a cloud session works in a GitHub repository", { hint: repoHint(ctx.command) });
  const check = parseRepository(flags.repo);
  if (!check.ok) throw new CliError("INVALID_REPOSITORY", check.message, { hint: repoHint(ctx.command) });
  const files = flags.promptFile ?? [];
  if ((prompts.length === 0 && files.length === 0) || prompts.some((prompt) => prompt.trim() === "")) {
    throw new CliError("MISSING_PROMPT", "give at least one non-empty prompt", { hint: `e.g. ${ctx.command} run --repo ${flags.repo} "Summarise the README"` });
  }
  // Read before anything starts: a bad file is a usage error, not a failed session.
  const all = [...prompts, ...(await readPromptFiles(files, ctx.stdin, ctx.command))];
  return withSessionEngine(ctx, flags, 1, async (scope) => {
    const handle = await scope.start({ repository: check.repository, prompts: all }, { repository: formatRepository(check.repository) });
    const outcome = await driveSession(handle, all.length);
    await scope.sessions.engine.settled();
    return scope.finish(handle, outcome);
  });
}
