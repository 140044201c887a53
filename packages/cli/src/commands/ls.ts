import { formatRepository, lifecycleState, replay } from "@cloudsession/machine";
import type { StreamSummary, EventStore } from "@cloudsession/store";
import { isCliError } from "../cliError.js";
import type { CommandContext } from "../commandContext.js";
import type { Damage } from "../damage.js";
import { ExitCode } from "../exitCodes.js";
import { readSessionLog } from "../sessionLog.js";
import { withStore } from "../withStore.js";

/** `ls --json`: one of these per line. */
export interface SessionListing {
  readonly type: "session-summary";
  readonly id: string;
  /** null when the log is too damaged to say. */
  readonly repository: string | null;
  /** The lifecycle state rebuilt from the log, or `damaged`. */
  readonly state: string;
  readonly final: boolean;
  /** null when the log is damaged. */
  readonly prompts: number | null;
  readonly createdAt: string;
  readonly remoteUrl: string | null;
  /** Only for a damaged log: the store's or engine's code (`CORRUPTED_EVENT`, `CORRUPTED_LOG`) and what is wrong. */
  readonly damage?: Damage;
}

async function listing(store: EventStore, stream: StreamSummary, command: string): Promise<SessionListing> {
  const createdAt = new Date(stream.createdAt).toISOString();
  try {
    const log = await readSessionLog(store, stream.streamId, command);
    const snapshot = replay(log.events);
    return {
      type: "session-summary",
      id: stream.streamId,
      repository: formatRepository(snapshot.context.repository),
      state: lifecycleState(snapshot),
      final: stream.final,
      prompts: snapshot.context.prompts.length,
      createdAt,
      remoteUrl: snapshot.context.remoteUrl,
    };
  } catch (error) {
    // One damaged log is one marked line, never a failed listing.
    if (!isCliError(error, "DAMAGED_LOG") || error.damage === undefined) throw error;
    return { type: "session-summary", id: stream.streamId, repository: null, state: "damaged", final: stream.final, prompts: null, createdAt, remoteUrl: null, damage: error.damage };
  }
}

/**
 * `cloudsession ls`: every session in the store, oldest first, with its state rebuilt from its
 * log (the store itself knows streams, not sessions). A session whose log is damaged is listed
 * too, marked `damaged` (with the code under `--json`); the exit code stays 0.
 */
export async function lsCommand(flags: { readonly open?: boolean }, ctx: CommandContext): Promise<ExitCode> {
  return withStore(ctx, async (store, location) => {
    const streams = await store.listStreams({ status: flags.open === true ? "open" : "all" });
    const listings: SessionListing[] = [];
    for (const stream of streams) {
      if (stream.firstEventType !== "session.requested") continue;
      listings.push(await listing(store, stream, ctx.command));
    }
    if (ctx.json) {
      for (const entry of listings) ctx.terminal.line(JSON.stringify(entry));
      return ExitCode.success;
    }
    const c = ctx.terminal.colors;
    if (listings.length === 0) {
      ctx.terminal.line(c.dim(`no sessions in ${location.label}`));
      return ExitCode.success;
    }
    const repositoryOf = (entry: SessionListing): string => entry.repository ?? "?";
    const idWidth = Math.max(...listings.map((entry) => entry.id.length), 2);
    const repoWidth = Math.max(...listings.map((entry) => repositoryOf(entry).length), 10);
    ctx.terminal.line(c.dim(`${"ID".padEnd(idWidth)}  ${"STATE".padEnd(14)}  ${"REPOSITORY".padEnd(repoWidth)}  PROMPTS  CREATED`));
    for (const entry of listings) {
      const state = entry.state.padEnd(14);
      const colored = entry.state === "closed" ? c.green(state) : entry.final || entry.damage !== undefined ? c.red(state) : c.cyan(state);
      const prompts = entry.prompts === null ? "?" : String(entry.prompts);
      ctx.terminal.line(`${entry.id.padEnd(idWidth)}  ${colored}  ${repositoryOf(entry).padEnd(repoWidth)}  ${prompts.padStart(7)}  ${entry.createdAt}`);
    }
    const open = listings.filter((entry) => !entry.final && entry.damage === undefined);
    if (open.length > 0) {
      ctx.terminal.line(c.dim(`${open.length} open: \`${ctx.command} resume <id>\` continues one on the runtime it ran on; \`${ctx.command} close <id>\` ends one nothing can continue.`));
    }
    const damaged = listings.filter((entry) => entry.damage !== undefined);
    if (damaged.length > 0) {
      const first = damaged[0]?.id ?? "";
      ctx.terminal.line(c.yellow(`${damaged.length} damaged log${damaged.length === 1 ? "" : "s"}: \`${ctx.command} show ${first}\` says what is wrong; nothing acts on a damaged log.`));
    }
    return ExitCode.success;
  });
}
