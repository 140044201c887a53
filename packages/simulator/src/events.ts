/**
 * A session event as it goes on the wire (`session.event` notification) and into history.
 * Persisted events carry no `ephemeral` key at all, exactly like the real runtime.
 */
export interface SessionEvent {
  readonly id: string;
  readonly timestamp: string;
  /** Id of the previous *persisted* event; null for the first one. */
  readonly parentId: string | null;
  readonly ephemeral?: true;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * Types the SDK's generated union marks `ephemeral: true` (extracted from
 * `@github/copilot-sdk@1.0.14` `dist/generated/session-events.d.ts`), plus the internal `model.*`
 * family the real runtime also streams as ephemeral.
 */
export const EPHEMERAL_EVENT_TYPES: ReadonlySet<string> = new Set([
  "session.idle", "session.title_changed", "session.auto_tier_recommendation", "session.auto_tier_switch_failed",
  "session.todos_changed", "session.snapshot_rewind", "session.usage_info", "session.fusion_route_started",
  "pending_messages.modified", "assistant.intent", "assistant.fusion_phase_started", "assistant.fusion_phase_activity",
  "assistant.server_tool_progress", "assistant.reasoning_delta", "assistant.tool_call_delta", "assistant.streaming_delta",
  "assistant.message_start", "assistant.message_delta", "assistant.idle", "assistant.usage", "model.call_failure",
  "model.call_finished", "tool.execution_partial_result", "tool.execution_progress", "hook.progress",
  "user_input.requested", "user_input.completed", "elicitation.requested", "elicitation.completed",
  "sampling.requested", "sampling.completed", "mcp.oauth_required", "mcp.oauth_completed",
  "mcp.headers_refresh_required", "mcp.headers_refresh_completed", "session.custom_notification",
  "ui.ephemeral_query", "command.queued", "command.execute", "command.completed", "auto_mode_switch.requested",
  "auto_mode_switch.completed", "session_limits_exhausted.requested", "session_limits_exhausted.completed",
  "session.managed_settings_resolved", "session.managed_settings_enforced", "commands.changed",
  "capabilities.changed", "exit_plan_mode.requested", "exit_plan_mode.completed", "session.tools_updated",
  "session.background_tasks_changed", "factory.run_updated", "factory.run_started", "factory.run_settled",
  "session.skills_loaded", "session.custom_agents_updated", "session.mcp_servers_loaded",
  "session.mcp_server_status_changed", "session.mcp_server_removed", "session.mcp_server_needs_reconnect",
  "mcp.tools.list_changed", "mcp.resources.list_changed", "mcp.prompts.list_changed", "session.extensions_loaded",
  "session.canvas.opened", "session.canvas.registry_changed", "session.canvas.closed", "session.canvas.unavailable",
  "session.extensions.attachments_pushed", "mcp_app.tool_call_complete",
]);

/** Ephemeral types the real runtime streams that the SDK's union does not have (besides `model.*`). */
const RUNTIME_ONLY_EPHEMERAL_TYPES: ReadonlySet<string> = new Set(["agent.interrupted"]);

/** Whether the runtime keeps events of this type out of history. */
export function isEphemeralType(type: string): boolean {
  return EPHEMERAL_EVENT_TYPES.has(type) || RUNTIME_ONLY_EPHEMERAL_TYPES.has(type) || type.startsWith("model.");
}

/**
 * The append-only log of one session. It builds envelopes (id, timestamp, parentId chain) and keeps
 * the persisted ones, which is what `session.getMessages` returns.
 */
export class EventLog {
  readonly #persisted: SessionEvent[] = [];
  #lastPersistedId: string | null = null;
  readonly #newId: () => string;
  readonly #now: () => number;

  constructor(newId: () => string, now: () => number) {
    this.#newId = newId;
    this.#now = now;
  }

  /** Builds the next event; persists it unless its type is ephemeral. */
  append(type: string, data: Readonly<Record<string, unknown>>): SessionEvent {
    const base = {
      id: this.#newId(),
      timestamp: new Date(this.#now()).toISOString(),
      // Ephemeral events hang off the latest persisted one, like the real runtime.
      parentId: this.#lastPersistedId,
    };
    if (isEphemeralType(type)) return { ...base, ephemeral: true, type, data };
    const event: SessionEvent = { ...base, type, data };
    this.#persisted.push(event);
    this.#lastPersistedId = event.id;
    return event;
  }

  /** Persisted events, oldest first. */
  get persisted(): readonly SessionEvent[] {
    return this.#persisted;
  }

  /**
   * What a reload from the stored log leaves (fixture `local-stored-log.json`): the real runtime
   * stores a `system.message` only for a session's first turn (not even after a resume), although
   * it emits one live on every turn and keeps them in memory. Events that hung off a dropped one
   * are re-parented onto its parent, as in the stored file. `keep` says which ones the store kept.
   */
  reloadFromStore(keep: (event: SessionEvent) => boolean): void {
    const reparent = new Map<string, string | null>();
    const stored: SessionEvent[] = [];
    for (const event of this.#persisted) {
      if (event.type === "system.message" && !keep(event)) {
        reparent.set(event.id, event.parentId);
        continue;
      }
      const parentId = event.parentId !== null && reparent.has(event.parentId) ? (reparent.get(event.parentId) ?? null) : event.parentId;
      stored.push(parentId === event.parentId ? event : { ...event, parentId });
    }
    this.#persisted.splice(0, this.#persisted.length, ...stored);
    this.#lastPersistedId = stored.at(-1)?.id ?? null;
  }
}
