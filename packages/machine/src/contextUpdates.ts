import { noDeadlines, type FailurePhase, type FailureReason, type PromptRecord, type SessionContext } from "./context.js";
import type { SessionEvent } from "./events.js";
import { backoffDelayMs, defaultSessionSettings } from "./settings.js";

/**
 * How one of the machine's actions changes the context: a pure function of the context before it
 * and the event. The machine's `assign` actions call these, and so does the fast transition path
 * (see fastTransition.ts), so the two cannot drift apart.
 */
export type ContextUpdate<Params = void> = (context: SessionContext, event: SessionEvent, params: Params) => Partial<SessionContext>;

export interface FailureParams {
  readonly phase: FailurePhase;
  readonly reason: FailureReason;
}

export interface ReasonParams {
  readonly reason: string;
}

const inTurn = (prompt: PromptRecord) => prompt.status === "dispatching" || prompt.status === "sent";

function eventMessage(event: SessionEvent): string | undefined {
  return "message" in event ? event.message : undefined;
}

const defaultMessages: Record<FailureReason, string> = {
  timeout: "deadline passed",
  policy_blocked: "blocked by organisation policy or entitlement",
  "create-failed": "createSession failed",
  "retries-exhausted": "createSession kept failing with transient errors",
  "session-error": "the session reported an error",
  "turn-stalled": "the turn stalled and did not acknowledge its abort",
  "runtime-unreachable": "the runtime stayed out of contact past the limit (unreachableTimeoutMs)",
};

/** Every action of the session machine, by the name the machine (and the inspector) gives it. */
export const contextUpdates = {
  queuePrompt: update((context, event) => ({
    prompts: event.type === "prompt.submitted" ? context.prompts.append({ id: event.promptId, text: event.text, status: "queued", submittedAt: event.at }) : context.prompts,
  })),
  // Published once by the runtime; the first URL wins so a duplicate cannot change it.
  recordRemoteUrl: update((context, event) => ({ remoteUrl: context.remoteUrl ?? (event.type === "remote-url.published" ? event.url : null) })),
  recordResume: update((context) => ({ resumes: context.resumes + 1 })),
  recordReservation: update((context, event) => ({
    sessionId: event.type === "reservation.succeeded" ? event.sessionId : context.sessionId,
    deadlines: { ...noDeadlines, "agent-start": event.at + context.settings.agentStartTimeoutMs },
  })),
  scheduleRetry: update((context, event) => ({
    deadlines: {
      ...context.deadlines,
      retry: event.at + backoffDelayMs(context.settings.retry, context.attempts, event.type === "reservation.failed" ? (event.random ?? 0.5) : 0.5),
    },
  })),
  startAttempt: update((context) => ({ attempts: context.attempts + 1, deadlines: { ...context.deadlines, retry: null } })),
  recordFailure: update<FailureParams>((_context, event, params) => ({
    failure: { phase: params.phase, reason: params.reason, message: eventMessage(event) ?? defaultMessages[params.reason] },
  })),
  recordAgentStart: update((context, event) => ({ agentStartedAt: event.at, deadlines: { ...context.deadlines, "agent-start": null } })),
  beginTurn: update((context, event) => ({
    prompts: event.type === "prompt.dispatching" ? context.prompts.update(event.promptId, (prompt) => ({ ...prompt, status: "dispatching" })) : context.prompts,
    inFlight: event.type === "prompt.dispatching" ? event.promptId : null,
    deadlines: { ...context.deadlines, "turn-stall": event.at + context.settings.turnStallTimeoutMs },
  })),
  recordMessageId: update((context, event) => ({
    prompts:
      event.type === "prompt.dispatched"
        ? context.prompts.update(event.promptId, (prompt) => ({ ...prompt, messageId: event.messageId, status: prompt.status === "dispatching" ? "sent" : prompt.status }))
        : context.prompts,
  })),
  failDispatch: update((context, event) => ({
    prompts:
      event.type === "prompt.dispatch-failed"
        ? context.prompts.update(event.promptId, (prompt) => {
            const { messageId: _messageId, ...rest } = prompt;
            return event.requeue ? { ...rest, status: "queued" } : { ...rest, status: "undelivered", reason: event.message };
          })
        : context.prompts,
    inFlight: null,
    // The send failed while its turn was being aborted: there is nothing left to abort.
    abortReason: null,
    deadlines: { ...context.deadlines, "turn-stall": null },
  })),
  refreshStall: update((context, event) => ({ deadlines: { ...context.deadlines, "turn-stall": event.at + context.settings.turnStallTimeoutMs } })),
  appendReply: update((context, event) => ({
    prompts:
      event.type === "assistant.message" && context.inFlight !== null
        ? context.prompts.update(context.inFlight, (prompt) => ({
            ...prompt,
            reply: prompt.reply === undefined || prompt.reply === "" ? event.text : event.text === "" ? prompt.reply : `${prompt.reply}\n\n${event.text}`,
          }))
        : context.prompts,
  })),
  endTurn: update((context, event) => {
    const inFlight = context.inFlight;
    const aborted = event.type === "turn.idle" && event.aborted;
    return {
      prompts:
        inFlight === null
          ? context.prompts
          : context.prompts.update(inFlight, (prompt) => (aborted ? { ...prompt, status: "interrupted", reason: context.abortReason ?? "aborted" } : { ...prompt, status: "completed" })),
      inFlight: null,
      abortReason: null,
      deadlines: { ...context.deadlines, "turn-stall": null },
    };
  }),
  // The abort's own idle gets one more stall window before the session is given up.
  beginAbort: update<ReasonParams>((context, event, params) => ({
    abortReason: params.reason,
    deadlines: { ...context.deadlines, "turn-stall": event.at + context.settings.turnStallTimeoutMs },
  })),
  // Out of contact: the deadlines that wait on the runtime pause (see `nextDeadline`), the limit starts.
  recordContactLost: update((context, event) => ({
    contactLostAt: event.at,
    deadlines: { ...context.deadlines, unreachable: event.at + unreachableLimit(context) },
  })),
  // Back in contact: the paused deadlines resume, pushed back by the time spent out of contact.
  recordContactBack: update((context, event) => {
    const away = Math.max(0, event.at - (context.contactLostAt ?? event.at));
    const { deadlines } = context;
    const resumed = (due: number | null) => (due === null ? null : due + away);
    return { contactLostAt: null, deadlines: { ...deadlines, "agent-start": resumed(deadlines["agent-start"]), "turn-stall": resumed(deadlines["turn-stall"]), unreachable: null } };
  }),
  recordClose: update((_context, event) => ({ closeReason: event.type === "close.requested" ? (event.reason ?? "closed by request") : null })),
  // Once per session, at its end: the one update that visits every prompt.
  settlePrompts: update<ReasonParams>((context, _event, params) => ({
    prompts: context.prompts.updateEach((prompt) =>
      prompt.status === "queued" ? { ...prompt, status: "undelivered" as const, reason: params.reason } : inTurn(prompt) ? { ...prompt, status: "interrupted" as const, reason: params.reason } : prompt,
    ),
    inFlight: null,
    abortReason: null,
    deadlines: noDeadlines,
  })),
};

/** The out-of-contact limit; logs written before it existed carry no value, and get the default. */
function unreachableLimit(context: SessionContext): number {
  const limit = (context.settings as Partial<SessionContext["settings"]>).unreachableTimeoutMs;
  return limit ?? defaultSessionSettings.unreachableTimeoutMs;
}

/** Gives an update its parameter types from {@link ContextUpdate}. */
function update<Params = void>(change: ContextUpdate<Params>): ContextUpdate<Params> {
  return change;
}

export type ActionName = keyof typeof contextUpdates;
