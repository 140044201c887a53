import type { SessionHandle, StartOptions } from "@cloudsession/engine";
import type { SessionOutcome, SessionSettingsInput } from "@cloudsession/machine";
import type { CommandContext } from "./commandContext.js";
import { exitCodeForOutcome, type ExitCode } from "./exitCodes.js";
import { canOpenBrowser, openBrowser } from "./inspector/openBrowser.js";
import { startInspectorRelay, type InspectorRelay } from "./inspector/relay.js";
import { createSessionInspector, type SessionInspector } from "./inspector/sessionInspector.js";
import { LiveView } from "./output/liveView.js";
import { NdjsonReporter } from "./output/ndjson.js";
import type { SessionLabel, SessionReporter } from "./output/reporter.js";
import { hintForOutcome } from "./outcomeHint.js";
import { chooseRuntime, simulatorFallbackNotice, type RuntimeChoice, type RuntimeFlags } from "./runtimeChoice.js";
import { openSessionEngine, type SessionEngine } from "./sessionEngine.js";
import { simulatorTimeScale } from "./simulation.js";
import { resolveStoreLocation } from "./storeLocation.js";

/** Flags shared by the commands that run sessions (`run`, `resume`, `start`). */
export interface SessionCommandFlags extends RuntimeFlags {
  /** `--inspect` (true) or `--inspect <port>`. */
  readonly inspect?: boolean | string;
  readonly reservationTimeout?: number;
  readonly agentTimeout?: number;
  readonly turnTimeout?: number;
}

/** What a session command's body works with. */
export interface SessionScope {
  readonly sessions: SessionEngine;
  readonly reporter: SessionReporter;
  readonly runtime: RuntimeChoice;
  /** Starts a session (once it is in the log) and shows it. */
  start(request: StartOptions, label: SessionLabel): Promise<SessionHandle>;
  /** Continues a stored session and shows it. */
  resume(id: string, label: SessionLabel): Promise<SessionHandle>;
  /** Reports the outcome and returns its exit code. */
  finish(handle: SessionHandle, outcome: SessionOutcome): ExitCode;
}

function timeoutsOf(flags: SessionCommandFlags): Omit<SessionSettingsInput, "retry"> {
  return {
    ...(flags.reservationTimeout === undefined ? {} : { reservationTimeoutMs: flags.reservationTimeout * 1000 }),
    ...(flags.agentTimeout === undefined ? {} : { agentStartTimeoutMs: flags.agentTimeout * 1000 }),
    ...(flags.turnTimeout === undefined ? {} : { turnStallTimeoutMs: flags.turnTimeout * 1000 }),
  };
}

/**
 * Sets up everything a session command needs (reporter, runtime, store, engine, inspector), runs
 * `body`, and tears it all down whatever happens. Ctrl-C detaches: the engine stops acting and the
 * session stays open in the log, where `cloudsession resume` finds it.
 */
export async function withSessionEngine(
  ctx: CommandContext,
  flags: SessionCommandFlags,
  defaultTimeScale: number,
  body: (scope: SessionScope) => Promise<ExitCode>,
): Promise<ExitCode> {
  const reporter: SessionReporter = ctx.json ? new NdjsonReporter(ctx.terminal.stdout) : new LiveView(ctx.terminal);
  const runtime = chooseRuntime(flags, ctx.env);
  if (runtime.kind === "simulate" && runtime.fallback) reporter.notice(simulatorFallbackNotice);
  const store = resolveStoreLocation(ctx.store, ctx.env);
  let relay: InspectorRelay | undefined;
  let inspector: SessionInspector | undefined;
  if (flags.inspect !== undefined && flags.inspect !== false) {
    relay = await startInspectorRelay({ port: typeof flags.inspect === "string" ? Number(flags.inspect) : 0 });
    inspector = createSessionInspector(relay.wsUrl);
    reporter.inspector(relay.url);
    if (!ctx.json && canOpenBrowser(ctx.env, ctx.terminal.interactive)) openBrowser(relay.url);
  }
  let sessions: SessionEngine | undefined;
  const current = new Set<string>();
  const onInterrupt = (): void => {
    for (const id of current) ctx.terminal.note(`\ninterrupted: session ${id} is left open; \`cloudsession resume ${id}\` continues it`);
    void (sessions?.close() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once("SIGINT", onInterrupt);
  try {
    sessions = await openSessionEngine({
      store,
      runtime,
      timeScale: simulatorTimeScale(ctx.env, defaultTimeScale),
      timeouts: timeoutsOf(flags),
      ...(inspector === undefined ? {} : { inspector }),
      onError: (error, id) => reporter.notice(`session ${id}: ${error instanceof Error ? error.message : String(error)}`),
    });
    const opened = sessions;
    opened.tap.onTransition((transition) => reporter.transition(transition));
    const scope: SessionScope = {
      sessions: opened,
      reporter,
      runtime,
      async start(request, label) {
        const handle = await opened.engine.start(request);
        current.add(handle.id);
        reporter.attach(handle, label);
        // After attach, so a script reads the \`session\` record before the session's transitions.
        opened.tap.bindNext(handle.id);
        return handle;
      },
      async resume(id, label) {
        const handle = await opened.engine.resume(id);
        current.add(handle.id);
        reporter.attach(handle, label);
        // After attach, so a script reads the \`session\` record before the session's transitions.
        opened.tap.bindNext(handle.id);
        return handle;
      },
      finish(handle, outcome) {
        current.delete(handle.id);
        const exitCode = exitCodeForOutcome(outcome);
        reporter.outcome(handle.id, outcome, exitCode, hintForOutcome(outcome));
        return exitCode;
      },
    };
    return await body(scope);
  } finally {
    process.off("SIGINT", onInterrupt);
    reporter.dispose();
    await inspector?.stop();
    await sessions?.close();
    if (relay) await holdRelay(ctx, relay);
  }
}

/** With a person watching, the inspector keeps serving until Ctrl-C; scripts just end. */
async function holdRelay(ctx: CommandContext, relay: InspectorRelay): Promise<void> {
  if (ctx.terminal.interactive && !ctx.json) {
    ctx.terminal.note(`inspector still serving at ${relay.url}; press Ctrl-C to exit`);
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  }
  await relay.close();
}
