import { serveDashboard } from "@cloudsession/dashboard";
import { InvalidArgumentError, type Command } from "commander";
import { CliError } from "../cliError.js";
import type { CommandContext } from "../commandContext.js";
import { ExitCode } from "../exitCodes.js";
import { canOpenBrowser, openBrowser } from "../inspector/openBrowser.js";
import { openStoreAt, resolveStoreLocation } from "../storeLocation.js";

export interface UiFlags {
  readonly port?: number;
}

const port = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) throw new InvalidArgumentError("expected a port number from 0 to 65535");
  return parsed;
};

/**
 * `cloudsession ui`: the dashboard of the store's sessions (`@cloudsession/dashboard`) on
 * 127.0.0.1 until Ctrl-C — the live list, each session's lifecycle, timeline, prompts and replay.
 * It reads the store; it runs no engine, so it offers no actions (the example service's dashboard
 * does, for the sessions its engine runs). Everything the page loads comes from this process.
 */
export async function uiCommand(flags: UiFlags, ctx: CommandContext): Promise<ExitCode> {
  const location = resolveStoreLocation(ctx.store, ctx.env);
  const store = await openStoreAt(location);
  let served: Awaited<ReturnType<typeof serveDashboard>>;
  try {
    served = await serveDashboard({ store, port: flags.port ?? 0 });
  } catch (error) {
    await store.close();
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError("USAGE", `cannot serve the dashboard on 127.0.0.1:${flags.port ?? 0}: ${reason}`, { hint: "pass --port 0 for a free port", cause: error });
  }
  try {
    await served.dashboard.ready();
    if (ctx.json) ctx.terminal.line(JSON.stringify({ type: "dashboard", url: served.url, store: location.label }));
    else {
      ctx.terminal.line(`dashboard ${served.url}`);
      ctx.terminal.note(`the sessions in ${location.label}, live; served on 127.0.0.1 only; Ctrl-C stops`);
      if (canOpenBrowser(ctx.env, ctx.terminal.interactive)) openBrowser(served.url);
    }
    await new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    });
  } finally {
    await served.close();
    await store.close();
  }
  return ExitCode.success;
}

/** Adds `ui` to the program (one line in program.ts). */
export function addUiCommand(program: Command, context: (command: Command) => CommandContext, result: { code: number }): void {
  program
    .command("ui")
    .description("serve the sessions dashboard on 127.0.0.1 (live list, lifecycle diagram, timeline, replay) until Ctrl-C")
    .option("--port <port>", "TCP port (default: a free one)", port)
    .action(async (flags: UiFlags, command: Command) => {
      result.code = await uiCommand(flags, context(command));
    });
}
