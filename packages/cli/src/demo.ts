import type { SessionHandle } from "@cloudsession/engine";
import type { SessionOutcome } from "@cloudsession/machine";
import type { CommandContext } from "./commandContext.js";
import { driveSession } from "./driveSession.js";
import { ExitCode } from "./exitCodes.js";
import { withSessionEngine, type SessionCommandFlags } from "./sessionCommand.js";
import { simulatorTimeScale } from "./simulation.js";
import { resolveStoreLocation } from "./storeLocation.js";

export interface DemoOptions extends SessionCommandFlags {
  /** How the printed next steps call the CLI; default: the caller's `ctx.command` (e.g. `./cloudsession`). */
  readonly commandPrefix?: string;
}

/** What the demo ran: one entry per session, with the state it was meant to reach. */
export interface DemoResult {
  readonly exitCode: ExitCode;
  readonly sessions: readonly { readonly id: string; readonly title: string; readonly expected: SessionOutcome["state"]; readonly state: SessionOutcome["state"] }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function whenState(handle: SessionHandle, wanted: (state: string) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const subscription = handle.state$.subscribe({ next: (state) => wanted(state) && resolve(), complete: () => resolve() });
    void handle.outcome.then(() => subscription.unsubscribe());
  });
}

/**
 * The demo `npm start` runs: three sessions on the bundled simulator, in the embedded store (or
 * `--store`), each shown live until its final state — a normal session; a slow agent with prompts
 * typed while it is not there yet (all delivered, in order); a session blocked by organisation
 * policy. Then it prints the `show` and `replay` commands to look at them again.
 *
 * @example
 * const result = await runDemo(ctx);
 */
export async function runDemo(ctx: CommandContext, options: DemoOptions = {}): Promise<DemoResult> {
  const sessions: DemoResult["sessions"][number][] = [];
  const flags: SessionCommandFlags = { ...options, simulate: options.simulate ?? "normal" };
  // The demo's pace: slow enough to watch, quick enough not to bore (the slow agent takes ~3 s).
  const timeScale = simulatorTimeScale(ctx.env, 0.4);
  const exitCode = await withSessionEngine(ctx, flags, timeScale, async (scope) => {
    const say = (line: string) => (ctx.json ? scope.reporter.notice(line) : ctx.terminal.line(line));
    say(ctx.terminal.colors.bold("cloudsession demo: three cloud sessions on the bundled simulator"));

    const normalTitle = "1/3 a normal session";
    const normal = await scope.start({ repository: { owner: "octo", name: "demo" }, prompts: ["Summarise the README", "List the open TODOs"] }, { repository: "octo/demo", title: normalTitle });
    const normalOutcome = await driveSession(normal, 2);
    scope.finish(normal, normalOutcome);
    sessions.push({ id: normal.id, title: normalTitle, expected: "closed", state: normalOutcome.state });

    const slowTitle = "2/3 a slow agent: prompts typed before it is ready are queued, then all delivered";
    const slow = await scope.start({ repository: { owner: "demo", name: "slow-agent" } }, { repository: "demo/slow-agent", title: slowTitle });
    const typed = ["Explain the build", "Suggest a test for the parser", "Draft release notes"];
    await whenState(slow, (state) => state !== "reserving");
    for (const text of typed) {
      if (slow.snapshot().status !== "active") break;
      await slow.send(text);
      await sleep(1000 * timeScale);
    }
    const slowOutcome = await driveSession(slow, typed.length);
    scope.finish(slow, slowOutcome);
    sessions.push({ id: slow.id, title: slowTitle, expected: "closed", state: slowOutcome.state });

    const blockedTitle = "3/3 an organisation whose Copilot policy blocks cloud sessions";
    const blocked = await scope.start({ repository: { owner: "demo", name: "blocked-org" }, prompts: ["Fix the flaky test"] }, { repository: "demo/blocked-org", title: blockedTitle });
    const blockedOutcome = await driveSession(blocked, 1);
    scope.finish(blocked, blockedOutcome);
    sessions.push({ id: blocked.id, title: blockedTitle, expected: "blocked", state: blockedOutcome.state });

    await scope.sessions.engine.settled();
    const prefix = options.commandPrefix ?? ctx.command;
    const storeFlag = ctx.store === undefined ? "" : ` --store ${ctx.store}`;
    say("");
    say(ctx.terminal.colors.bold("look at them again (the log is the record):"));
    say(`  ${prefix} ls${storeFlag}`);
    say(`  ${prefix} show ${normal.id}${storeFlag}`);
    say(`  ${prefix} replay ${slow.id}${storeFlag}`);
    say(`  ${prefix} show ${blocked.id}${storeFlag}`);
    if (resolveStoreLocation(ctx.store, ctx.env).kind === "memory") say(ctx.terminal.colors.yellow("  (a memory: store is gone at exit: pass --store <directory> to keep the sessions)"));
    return sessions.every((session) => session.state === session.expected) ? ExitCode.success : ExitCode.unexpected;
  });
  return { exitCode, sessions };
}
