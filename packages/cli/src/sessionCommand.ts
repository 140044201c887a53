import type { SessionHandle, StartOptions } from "@cloudsession/engine";
import type { SessionOutcome, SessionSettingsInput } from "@cloudsession/machine";
import { CliError, isCliError } from "./cliError.js";
import type { CommandContext } from "./commandContext.js";
import { exitCodeForOutcome, ExitCode } from "./exitCodes.js";
import { canOpenBrowser, openBrowser } from "./inspector/openBrowser.js";
import { startInspectorRelay, type InspectorRelay } from "./inspector/relay.js";
import { createSessionInspector, type SessionInspector } from "./inspector/sessionInspector.js";
import { onInterrupt } from "./interrupt.js";
import { LiveView } from "./output/liveView.js";
import { NdjsonReporter } from "./output/ndjson.js";
import type { SessionLabel, SessionReporter } from "./output/reporter.js";
import { hintForOutcome } from "./outcomeHint.js";
import { assertPortFree, listeningOn } from "./ports.js";
import { chooseRuntime, hasGitHubCredentials, simulatorFallbackNotice, type RuntimeChoice, type RuntimeFlags } from "./runtimeChoice.js";
import { assertRuntimeReachable } from "./runtimeProbe.js";
import { openSessionEngine, type SessionEngine } from "./sessionEngine.js";
import { simulatorTimeScale } from "./simulation.js";
import { resolveStoreLocation } from "./storeLocation.js";

/** Flags shared by the commands that run sessions (`run`, `resume`, `close`, `start`). */
export interface SessionCommandFlags extends RuntimeFlags {
  /** `--inspect` (port 0: any free one) or `--inspect=<port>`, parsed. */
  readonly inspect?: number;
  readonly reservationTimeout?: number;
  readonly agentTimeout?: number;
  readonly turnTimeout?: number;
  readonly unreachableTimeout?: number;
}

/** What a session command's body works with. */
export interface SessionScope {
  readonly sessions: SessionEngine;
  readonly reporter: SessionReporter;
  readonly runtime: RuntimeChoice;
  /** Starts a session (once it is in the log) and shows it. Refused (`INTERRUPTED`) after Ctrl-C. */
  start(request: StartOptions, label: SessionLabel): Promise<SessionHandle>;
  /** Continues a stored session and shows it. */
  resume(id: string, label: SessionLabel): Promise<SessionHandle>;
  /**
   * Reports the outcome and returns its exit code: the outcome's, or `asked` for an outcome the
   * user asked for (`close`), reported without a hint.
   */
  finish(handle: SessionHandle, outcome: SessionOutcome, asked?: ExitCode): ExitCode;
}

/** How a command uses the runtime: `close` needs none to be up (it only ends the session in the log). */
export interface SessionEngineUse {
  readonly needsRuntime?: boolean;
}

function timeoutsOf(flags: SessionCommandFlags): Omit<SessionSettingsInput, "retry"> {
  return {
    ...(flags.reservationTimeout === undefined ? {} : { reservationTimeoutMs: flags.reservationTimeout * 1000 }),
    ...(flags.agentTimeout === undefined ? {} : { agentStartTimeoutMs: flags.agentTimeout * 1000 }),
    ...(flags.turnTimeout === undefined ? {} : { turnStallTimeoutMs: flags.turnTimeout * 1000 }),
    ...(flags.unreachableTimeout === undefined ? {} : { unreachableTimeoutMs: flags.unreachableTimeout * 1000 }),
  };
}

/**
 * Sets up everything a session command needs (reporter, runtime, store, engine, inspector), runs
 * `body`, and tears it all down whatever happens. What is wrong with the flags (a runtime that does
 * not answer, a port in use) is reported before anything starts. Ctrl-C: see {@link onInterrupt}.
 */
export async function withSessionEngine(
  ctx: CommandContext,
  flags: SessionCommandFlags,
  defaultTimeScale: number,
  body: (scope: SessionScope) => Promise<ExitCode>,
  use: SessionEngineUse = {},
): Promise<ExitCode> {
  const runtime = chooseRuntime(flags, ctx.env);
  if (runtime.kind === "external" && use.needsRuntime !== false) await assertRuntimeReachable(runtime.url, ctx.command);
  if (flags.inspect !== undefined) await assertPortFree(flags.inspect, "--inspect");
  const store = resolveStoreLocation(ctx.store, ctx.env);
  const timeScale = simulatorTimeScale(ctx.env, defaultTimeScale);
  const reporter: SessionReporter = ctx.json ? new NdjsonReporter(ctx.terminal.stdout) : new LiveView(ctx.terminal);
  // `close` only ends a session in its log: which runtime stands by does not matter to the user.
  if (runtime.kind === "simulate" && runtime.fallback && use.needsRuntime !== false) reporter.notice(simulatorFallbackNotice);
  // The engine's timers never keep a process alive on their own: the command does, while it waits.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  let relay: InspectorRelay | undefined;
  let inspector: SessionInspector | undefined;
  let sessions: SessionEngine | undefined;
  const current = new Map<string, SessionHandle>();
  const lastReservationError = new Map<string, string>();
  const interrupt = onInterrupt({ ctx, reporter, runtime, current: () => [...current.values()], engine: () => sessions });
  try {
    if (flags.inspect !== undefined) {
      const port = flags.inspect;
      relay = await listeningOn(port, "--inspect", () => startInspectorRelay({ port }));
      inspector = createSessionInspector(relay.wsUrl);
      reporter.inspector(relay.url);
      if (!ctx.json && canOpenBrowser(ctx.env, ctx.terminal.interactive)) openBrowser(relay.url);
    }
    sessions = await openSessionEngine({
      store,
      runtime,
      timeScale,
      timeouts: timeoutsOf(flags),
      ...(inspector === undefined ? {} : { inspector }),
      onError: (error, id) => reporter.notice(`session ${id}: ${error instanceof Error ? error.message : String(error)}`),
    });
    const opened = sessions;
    opened.tap.onTransition((transition) => reporter.transition(transition));
    const show = (handle: SessionHandle, label: SessionLabel): SessionHandle => {
      current.set(handle.id, handle);
      reporter.attach(handle, label);
      handle.events$.subscribe((event) => {
        if (event.type === "reservation.failed") lastReservationError.set(handle.id, event.message);
      });
      // After attach, so a script reads the `session` record before the session's transitions.
      opened.tap.bindNext(handle.id);
      return handle;
    };
    const scope: SessionScope = {
      sessions: opened,
      reporter,
      runtime,
      async start(request, label) {
        if (interrupt.happened) throw new CliError("INTERRUPTED", "interrupted", { exitCode: ExitCode.interrupted });
        return show(await opened.engine.start(request), label);
      },
      async resume(id, label) {
        return show(await opened.engine.resume(id), label);
      },
      finish(handle, outcome, asked) {
        current.delete(handle.id);
        if (asked !== undefined) {
          reporter.outcome(handle.id, outcome, asked, undefined);
          return asked;
        }
        const exitCode = exitCodeForOutcome(outcome);
        const lastError = lastReservationError.get(handle.id);
        const hint = hintForOutcome(outcome, {
          session: handle.id,
          runtime,
          hasCredentials: hasGitHubCredentials(ctx.env),
          command: ctx.command,
          ...(lastError === undefined ? {} : { lastReservationError: lastError }),
        });
        reporter.outcome(handle.id, outcome, exitCode, hint);
        return exitCode;
      },
    };
    const code = await body(scope);
    return interrupt.happened ? ExitCode.interrupted : code;
  } catch (error) {
    if (isCliError(error, "INTERRUPTED")) return ExitCode.interrupted;
    throw error;
  } finally {
    interrupt.dispose();
    clearInterval(keepAlive);
    reporter.dispose();
    await inspector?.stop();
    await sessions?.close();
    if (relay) await holdRelay(ctx, relay, interrupt.happened);
  }
}

/** With a person watching, the inspector keeps serving until Ctrl-C; scripts just end. */
async function holdRelay(ctx: CommandContext, relay: InspectorRelay, interrupted: boolean): Promise<void> {
  if (ctx.terminal.interactive && !ctx.json && !interrupted) {
    ctx.terminal.note(`inspector still serving at ${relay.url}; press Ctrl-C to exit`);
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  }
  await relay.close();
}
