import type { SessionHandle } from "@cloudsession/engine";
import type { CommandContext } from "./commandContext.js";
import { ExitCode } from "./exitCodes.js";
import type { SessionReporter } from "./output/reporter.js";
import type { RuntimeChoice } from "./runtimeChoice.js";
import type { SessionEngine } from "./sessionEngine.js";

/** The close reason recorded for a session ended by Ctrl-C on the bundled simulator. */
export const interruptedOnSimulatorReason = "interrupted (Ctrl-C): the bundled simulator it ran on ended with the CLI";

/** How long closing may take after Ctrl-C before the process leaves anyway. */
const CLOSE_GRACE_MS = 10_000;

export interface InterruptHandling {
  /** Ctrl-C came: no new session may start, and the command exits 130. */
  readonly happened: boolean;
  dispose(): void;
}

export interface InterruptOptions {
  readonly ctx: CommandContext;
  readonly reporter: SessionReporter;
  readonly runtime: RuntimeChoice;
  readonly current: () => readonly SessionHandle[];
  readonly engine: () => SessionEngine | undefined;
}

/**
 * Ctrl-C during a session command. On the bundled simulator the open sessions are closed, with
 * the reason in their log: that simulator ends with this process, so nothing could ever continue
 * them, and a session left open would stay open for good. The command then reports their outcomes
 * and exits 130. On a runtime that outlives the process (`--live`, `--runtime`), the engine detaches
 * and the sessions stay open for `resume` (or `close`). A repeated signal (a terminal and a
 * launcher may both send one) changes nothing.
 */
export function onInterrupt(options: InterruptOptions): InterruptHandling {
  const { ctx, reporter, runtime } = options;
  let happened = false;
  const handler = (): void => {
    if (happened) return;
    happened = true;
    const open = options.current().filter((handle) => handle.snapshot().status === "active");
    if (runtime.kind === "simulate") {
      for (const handle of open) {
        reporter.notice(`interrupted: closing session ${handle.id}: it runs on the bundled simulator, which ends with this process, so nothing could continue it later`);
        void handle.close(interruptedOnSimulatorReason);
      }
      setTimeout(() => process.exit(ExitCode.interrupted), CLOSE_GRACE_MS).unref();
      return;
    }
    for (const handle of open) {
      reporter.notice(`interrupted: session ${handle.id} is left open; \`${ctx.command} resume ${handle.id}\` continues it, \`${ctx.command} close ${handle.id}\` ends it`);
    }
    reporter.dispose();
    void (options.engine()?.close() ?? Promise.resolve()).finally(() => process.exit(ExitCode.interrupted));
  };
  process.on("SIGINT", handler);
  return {
    get happened() {
      return happened;
    },
    dispose: () => process.off("SIGINT", handler),
  };
}
