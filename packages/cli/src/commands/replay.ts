import { isFinal, lifecycleState, replay } from "@cloudsession/machine";
import type { CommandContext } from "../commandContext.js";
import { ExitCode } from "../exitCodes.js";
import { canOpenBrowser, openBrowser } from "../inspector/openBrowser.js";
import { startInspectorRelay } from "../inspector/relay.js";
import { createSessionInspector } from "../inspector/sessionInspector.js";
import { formatDuration } from "../output/duration.js";
import { writeRecord } from "../output/ndjson.js";
import { assertPortFree, listeningOn } from "../ports.js";
import { readSessionLog } from "../sessionLog.js";
import { replayTransitions } from "../transitions.js";
import { withStore } from "../withStore.js";

/**
 * `cloudsession replay <id>`: feeds the stored log through the lifecycle machine, one event at a
 * time, and prints each transition. `--json` prints them in the shape `run --json` does, so a
 * replay can be compared with the live run line by line.
 */
export async function replayCommand(id: string, flags: { readonly inspect?: number }, ctx: CommandContext): Promise<ExitCode> {
  if (flags.inspect !== undefined) await assertPortFree(flags.inspect, "--inspect");
  const port = flags.inspect;
  const relay = port === undefined ? undefined : await listeningOn(port, "--inspect", () => startInspectorRelay({ port }));
  const inspector = relay === undefined ? undefined : createSessionInspector(relay.wsUrl);
  try {
    if (relay) {
      if (ctx.json) writeRecord(ctx.terminal.stdout, { type: "inspector", url: relay.url });
      else ctx.terminal.note(`inspector ${relay.url} (serving on 127.0.0.1 only)`);
      if (!ctx.json && canOpenBrowser(ctx.env, ctx.terminal.interactive)) openBrowser(relay.url);
    }
    return await withStore(ctx, async (store) => {
      const log = await readSessionLog(store, id, ctx.command);
      const transitions = replayTransitions(id, log.events, inspector === undefined ? undefined : (event) => inspector.inspect(event));
      if (ctx.json) {
        for (const transition of transitions) writeRecord(ctx.terminal.stdout, { type: "transition", ...transition });
        return ExitCode.success;
      }
      const c = ctx.terminal.colors;
      const start = transitions[0]?.at ?? 0;
      ctx.terminal.line(c.dim(`replaying ${log.events.length} events of session ${id}`));
      const width = Math.max(...transitions.map((transition) => (transition.from ?? "").length), 4);
      for (const transition of transitions) {
        const from = (transition.from ?? "·").padEnd(width);
        ctx.terminal.line(`${c.dim(`+${formatDuration(transition.at - start)}`.padStart(9))}  ${from} ${c.cyan("→")} ${c.bold(transition.to.padEnd(22))} ${c.dim(transition.event)}`);
      }
      const state = lifecycleState(replay(log.events));
      ctx.terminal.line(c.dim(isFinal(state) ? `ended ${state}` : `still ${state}: the session is open`));
      return ExitCode.success;
    });
  } finally {
    await inspector?.stop();
    if (relay) {
      if (ctx.terminal.interactive && !ctx.json) {
        ctx.terminal.note(`inspector still serving at ${relay.url}; press Ctrl-C to exit`);
        await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
      }
      await relay.close();
    }
  }
}
