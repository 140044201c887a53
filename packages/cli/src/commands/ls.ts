import { lifecycleState, replay } from "@cloudsession/machine";
import type { CommandContext } from "../commandContext.js";
import { ExitCode } from "../exitCodes.js";
import { readSessionLog } from "../sessionLog.js";
import { withStore } from "../withStore.js";

/** `ls --json`: one of these per line. */
export interface SessionListing {
  readonly type: "session-summary";
  readonly id: string;
  readonly repository: string;
  readonly state: string;
  readonly final: boolean;
  readonly prompts: number;
  readonly createdAt: string;
  readonly remoteUrl: string | null;
}

/**
 * `cloudsession ls`: every session in the store, oldest first, with its state rebuilt from its
 * log (the store itself knows streams, not sessions).
 */
export async function lsCommand(flags: { readonly open?: boolean }, ctx: CommandContext): Promise<ExitCode> {
  return withStore(ctx, async (store, location) => {
    const streams = await store.listStreams({ status: flags.open === true ? "open" : "all" });
    const listings: SessionListing[] = [];
    for (const stream of streams) {
      if (stream.firstEventType !== "session.requested") continue;
      const log = await readSessionLog(store, stream.streamId);
      const snapshot = replay(log.events);
      const { owner, name, branch } = snapshot.context.repository;
      listings.push({
        type: "session-summary",
        id: stream.streamId,
        repository: branch === undefined ? `${owner}/${name}` : `${owner}/${name}@${branch}`,
        state: lifecycleState(snapshot),
        final: stream.final,
        prompts: snapshot.context.prompts.length,
        createdAt: new Date(stream.createdAt).toISOString(),
        remoteUrl: snapshot.context.remoteUrl,
      });
    }
    if (ctx.json) {
      for (const listing of listings) ctx.terminal.line(JSON.stringify(listing));
      return ExitCode.success;
    }
    const c = ctx.terminal.colors;
    if (listings.length === 0) {
      ctx.terminal.line(c.dim(`no sessions in ${location.label}`));
      return ExitCode.success;
    }
    const idWidth = Math.max(...listings.map((listing) => listing.id.length), 2);
    const repoWidth = Math.max(...listings.map((listing) => listing.repository.length), 10);
    ctx.terminal.line(c.dim(`${"ID".padEnd(idWidth)}  ${"STATE".padEnd(14)}  ${"REPOSITORY".padEnd(repoWidth)}  PROMPTS  CREATED`));
    for (const listing of listings) {
      const state = listing.state.padEnd(14);
      const colored = listing.state === "closed" ? c.green(state) : listing.final ? c.red(state) : c.cyan(state);
      ctx.terminal.line(`${listing.id.padEnd(idWidth)}  ${colored}  ${listing.repository.padEnd(repoWidth)}  ${String(listing.prompts).padStart(7)}  ${listing.createdAt}`);
    }
    return ExitCode.success;
  });
}
