import { formatRepository, lifecycleState, replay, type PromptStatus } from "@cloudsession/machine";
import type { CommandContext } from "../commandContext.js";
import { ExitCode } from "../exitCodes.js";
import { formatDuration } from "../output/duration.js";
import { readSessionLog } from "../sessionLog.js";
import { withStore } from "../withStore.js";

/** `show --json`: one JSON object describing the session, from its log. */
export interface SessionDetail {
  readonly type: "session-detail";
  readonly id: string;
  readonly repository: string;
  readonly state: string;
  readonly final: boolean;
  readonly sessionId: string | null;
  readonly remoteUrl: string | null;
  readonly failure: { readonly phase: string; readonly reason: string; readonly message: string } | null;
  readonly closeReason: string | null;
  readonly prompts: readonly { readonly id: string; readonly text: string; readonly status: PromptStatus; readonly reason?: string; readonly messageId?: string; readonly reply?: string }[];
  readonly timeline: readonly { readonly version: number; readonly type: string; readonly at: number; readonly offsetMs: number }[];
}

/**
 * `cloudsession show <id>`: state, URL, prompts and their delivery, and the timeline of recorded
 * events — all rebuilt from the log, so it works for any session in the store, live or ended.
 */
export async function showCommand(id: string, ctx: CommandContext): Promise<ExitCode> {
  return withStore(ctx, async (store) => {
    const log = await readSessionLog(store, id, ctx.command);
    const snapshot = replay(log.events);
    const context = snapshot.context;
    const start = context.requestedAt;
    const detail: SessionDetail = {
      type: "session-detail",
      id,
      repository: formatRepository(context.repository),
      state: lifecycleState(snapshot),
      final: snapshot.status !== "active",
      sessionId: context.sessionId,
      remoteUrl: context.remoteUrl,
      failure: context.failure,
      closeReason: context.closeReason,
      prompts: context.prompts.map((prompt) => ({
        id: prompt.id,
        text: prompt.text,
        status: prompt.status,
        ...(prompt.reason === undefined ? {} : { reason: prompt.reason }),
        ...(prompt.messageId === undefined ? {} : { messageId: prompt.messageId }),
        ...(prompt.reply === undefined ? {} : { reply: prompt.reply }),
      })),
      timeline: log.rows.map((row, index) => {
        const at = log.events[index]?.at ?? start;
        return { version: row.version, type: row.type, at, offsetMs: at - start };
      }),
    };
    if (ctx.json) {
      ctx.terminal.line(JSON.stringify(detail));
      return ExitCode.success;
    }
    const c = ctx.terminal.colors;
    const field = (name: string, value: string): void => ctx.terminal.line(`${c.dim(name.padEnd(16))}${value}`);
    field("session", id);
    field("repository", detail.repository);
    const why = detail.failure ? ` while ${detail.failure.phase} (${detail.failure.reason}): ${detail.failure.message}` : detail.closeReason === null ? "" : ` (${detail.closeReason})`;
    field("state", `${c.bold(detail.state)}${why}`);
    field("SDK session", detail.sessionId ?? c.dim("none yet"));
    field("Mission Control", detail.remoteUrl ?? c.dim("not published"));
    field("requested", new Date(start).toISOString());
    ctx.terminal.line();
    ctx.terminal.line(c.bold("prompts"));
    if (detail.prompts.length === 0) ctx.terminal.line(c.dim("  none"));
    detail.prompts.forEach((prompt, index) => {
      const status = prompt.status === "completed" ? c.green(prompt.status) : prompt.status === "undelivered" || prompt.status === "interrupted" ? c.yellow(prompt.status) : prompt.status;
      ctx.terminal.line(`  ${index + 1}. ${status.padEnd(prompt.status.length + (11 - prompt.status.length))} ${prompt.text}${prompt.reason === undefined ? "" : c.dim(` (${prompt.reason})`)}`);
      if (prompt.reply !== undefined) ctx.terminal.line(c.dim(`     ↳ ${oneLine(prompt.reply, 100)}`));
    });
    ctx.terminal.line();
    ctx.terminal.line(c.bold("timeline"));
    for (const entry of detail.timeline) ctx.terminal.line(`  ${c.dim(`+${formatDuration(entry.offsetMs)}`.padStart(9))}  ${entry.type}`);
    return ExitCode.success;
  });
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
