import { assign, setup } from "xstate";
import { noDeadlines, type FailurePhase, type FailureReason, type PromptRecord, type SessionContext, type SessionFailure } from "./context.js";
import { AGENT_PRODUCER, type DeadlineName, type SessionEvent } from "./events.js";
import type { Repository } from "./repository.js";
import { backoffDelayMs, type SessionSettings } from "./settings.js";

/** What a session starts from: the content of its `session.requested` event. */
export interface SessionInput {
  readonly repository: Repository;
  readonly settings: SessionSettings;
  readonly requestedAt: number;
}

export type FinalStateName = "blocked" | "failed" | "closed";

/** Why a session ended, as the machine's output. */
export interface SessionOutcome {
  readonly state: FinalStateName;
  readonly failure: SessionFailure | null;
  readonly closeReason: string | null;
  readonly prompts: readonly PromptRecord[];
}

const inTurn = (prompt: PromptRecord) => prompt.status === "dispatching" || prompt.status === "sent";

function updatePrompt(prompts: readonly PromptRecord[], id: string, change: (prompt: PromptRecord) => PromptRecord): PromptRecord[] {
  return prompts.map((prompt) => (prompt.id === id ? change(prompt) : prompt));
}

function queueHead(context: SessionContext): PromptRecord | undefined {
  return context.prompts.find((prompt) => prompt.status === "queued");
}

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
};

/**
 * The lifecycle of one Copilot cloud session.
 *
 * `reserving` (createSession in flight, or backing off after a transient failure) →
 * `awaiting-agent` (task reserved; the remote worker has not sent `session.start` yet) →
 * `ready` ⇄ `streaming` (one turn at a time) → `closed`; or `blocked` (policy, never retried) or
 * `failed` (with a `{ phase, reason, message }`).
 *
 * The machine is pure: it performs no effects and reads no clock. Deadlines are absolute times in
 * context, fired by `deadline.fired` events; prompts queue until a `copilot-agent` start; the engine
 * looks at the snapshot to decide what to do next (create, dispatch the queue's head, abort).
 */
/**
 * Handled alike in every live (non-final) state: spread into each of them rather than put on the
 * root, where they would also match in a final state under the pure `transition()` (an actor
 * ignores events once done; `transition()` does not) and so needed an `isLive` guard of three
 * `stateIn` checks on every such event, a third of its cost.
 */
const liveHandlers = {
  "prompt.submitted": { guard: "isNewPrompt", actions: "queuePrompt" },
  "remote-url.published": { actions: "recordRemoteUrl" },
  "close.requested": { target: "#cloud-session.closed", actions: "recordClose" },
} as const;

export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionInput,
    output: {} as SessionOutcome,
  },
  guards: {
    isAgentProducer: ({ event }) => event.type === "agent.started" && event.producer === AGENT_PRODUCER,
    isFailure: ({ event }, failure: "policy_blocked" | "fatal") => event.type === "reservation.failed" && event.failure === failure,
    hasAttemptsLeft: ({ context }) => context.attempts < context.settings.retry.maxAttempts,
    isDue: ({ context, event }, deadline: DeadlineName) => {
      if (event.type !== "deadline.fired" || event.deadline !== deadline) return false;
      const due = context.deadlines[deadline];
      return due !== null && event.at >= due;
    },
    isQueueHead: ({ context, event }) => event.type === "prompt.dispatching" && queueHead(context)?.id === event.promptId,
    isInFlight: ({ context, event }) => "promptId" in event && context.inFlight === event.promptId,
    isNewPrompt: ({ context, event }) => event.type === "prompt.submitted" && !context.prompts.some((prompt) => prompt.id === event.promptId),
    isUnconfirmedDispatch: ({ context, event }) =>
      event.type === "prompt.dispatched" &&
      context.prompts.some((prompt) => prompt.id === event.promptId && prompt.messageId === undefined && prompt.status !== "queued" && prompt.status !== "undelivered"),
  },
  actions: {
    queuePrompt: assign({
      prompts: ({ context, event }) =>
        event.type === "prompt.submitted" ? [...context.prompts, { id: event.promptId, text: event.text, status: "queued" as const, submittedAt: event.at }] : context.prompts,
    }),
    recordRemoteUrl: assign({
      // Published once by the runtime; the first URL wins so a duplicate cannot change it.
      remoteUrl: ({ context, event }) => context.remoteUrl ?? (event.type === "remote-url.published" ? event.url : null),
    }),
    recordResume: assign({ resumes: ({ context }) => context.resumes + 1 }),
    recordReservation: assign({
      sessionId: ({ context, event }) => (event.type === "reservation.succeeded" ? event.sessionId : context.sessionId),
      deadlines: ({ context, event }) => ({ ...noDeadlines, "agent-start": event.at + context.settings.agentStartTimeoutMs }),
    }),
    scheduleRetry: assign({
      deadlines: ({ context, event }) => ({
        ...context.deadlines,
        retry: event.at + backoffDelayMs(context.settings.retry, context.attempts, event.type === "reservation.failed" ? (event.random ?? 0.5) : 0.5),
      }),
    }),
    startAttempt: assign({
      attempts: ({ context }) => context.attempts + 1,
      deadlines: ({ context }) => ({ ...context.deadlines, retry: null }),
    }),
    recordFailure: assign({
      failure: ({ event }, params: { phase: FailurePhase; reason: FailureReason }) => ({
        phase: params.phase,
        reason: params.reason,
        message: eventMessage(event) ?? defaultMessages[params.reason],
      }),
    }),
    recordAgentStart: assign({
      agentStartedAt: ({ event }) => event.at,
      deadlines: ({ context }) => ({ ...context.deadlines, "agent-start": null }),
    }),
    beginTurn: assign({
      prompts: ({ context, event }) =>
        event.type === "prompt.dispatching" ? updatePrompt(context.prompts, event.promptId, (prompt) => ({ ...prompt, status: "dispatching" })) : context.prompts,
      inFlight: ({ event }) => (event.type === "prompt.dispatching" ? event.promptId : null),
      deadlines: ({ context, event }) => ({ ...context.deadlines, "turn-stall": event.at + context.settings.turnStallTimeoutMs }),
    }),
    recordMessageId: assign({
      prompts: ({ context, event }) =>
        event.type === "prompt.dispatched"
          ? updatePrompt(context.prompts, event.promptId, (prompt) => ({
              ...prompt,
              messageId: event.messageId,
              status: prompt.status === "dispatching" ? "sent" : prompt.status,
            }))
          : context.prompts,
    }),
    failDispatch: assign({
      prompts: ({ context, event }) =>
        event.type === "prompt.dispatch-failed"
          ? updatePrompt(context.prompts, event.promptId, (prompt) => {
              const { messageId: _messageId, ...rest } = prompt;
              return event.requeue ? { ...rest, status: "queued" } : { ...rest, status: "undelivered", reason: event.message };
            })
          : context.prompts,
      inFlight: null,
      // The send failed while its turn was being aborted: there is nothing left to abort.
      abortReason: null,
      deadlines: ({ context }) => ({ ...context.deadlines, "turn-stall": null }),
    }),
    refreshStall: assign({
      deadlines: ({ context, event }) => ({ ...context.deadlines, "turn-stall": event.at + context.settings.turnStallTimeoutMs }),
    }),
    appendReply: assign({
      prompts: ({ context, event }) =>
        event.type === "assistant.message" && context.inFlight !== null
          ? updatePrompt(context.prompts, context.inFlight, (prompt) => ({
              ...prompt,
              reply: prompt.reply === undefined || prompt.reply === "" ? event.text : event.text === "" ? prompt.reply : `${prompt.reply}\n\n${event.text}`,
            }))
          : context.prompts,
    }),
    endTurn: assign({
      prompts: ({ context, event }) => {
        const inFlight = context.inFlight;
        if (inFlight === null) return context.prompts;
        const aborted = event.type === "turn.idle" && event.aborted;
        return updatePrompt(context.prompts, inFlight, (prompt) =>
          aborted ? { ...prompt, status: "interrupted", reason: context.abortReason ?? "aborted" } : { ...prompt, status: "completed" },
        );
      },
      inFlight: null,
      abortReason: null,
      deadlines: ({ context }) => ({ ...context.deadlines, "turn-stall": null }),
    }),
    beginAbort: assign({
      abortReason: (_, params: { reason: string }) => params.reason,
      // The abort's own idle gets one more stall window before the session is given up.
      deadlines: ({ context, event }) => ({ ...context.deadlines, "turn-stall": event.at + context.settings.turnStallTimeoutMs }),
    }),
    recordClose: assign({
      closeReason: ({ event }) => (event.type === "close.requested" ? (event.reason ?? "closed by request") : null),
    }),
    settlePrompts: assign({
      prompts: ({ context }, params: { reason: string }) =>
        context.prompts.map((prompt) =>
          prompt.status === "queued"
            ? { ...prompt, status: "undelivered" as const, reason: params.reason }
            : inTurn(prompt)
              ? { ...prompt, status: "interrupted" as const, reason: params.reason }
              : prompt,
        ),
      inFlight: null,
      abortReason: null,
      deadlines: noDeadlines,
    }),
  },
}).createMachine({
  id: "cloud-session",
  context: ({ input }) => ({
    repository: input.repository,
    settings: input.settings,
    requestedAt: input.requestedAt,
    sessionId: null,
    remoteUrl: null,
    agentStartedAt: null,
    attempts: 1,
    prompts: [],
    inFlight: null,
    abortReason: null,
    deadlines: { ...noDeadlines, reservation: input.requestedAt + input.settings.reservationTimeoutMs },
    failure: null,
    closeReason: null,
    resumes: 0,
  }),
  initial: "reserving",
  states: {
    reserving: {
      initial: "attempting",
      on: {
        ...liveHandlers,
        "deadline.fired": {
          guard: { type: "isDue", params: "reservation" },
          target: "failed",
          actions: { type: "recordFailure", params: { phase: "reserving", reason: "timeout" } },
        },
      },
      states: {
        attempting: {
          on: {
            "reservation.succeeded": { target: "#cloud-session.awaiting-agent", actions: "recordReservation" },
            "reservation.failed": [
              {
                // A policy outcome, not a fault: never retried.
                guard: { type: "isFailure", params: "policy_blocked" },
                target: "#cloud-session.blocked",
                actions: { type: "recordFailure", params: { phase: "reserving", reason: "policy_blocked" } },
              },
              {
                guard: { type: "isFailure", params: "fatal" },
                target: "#cloud-session.failed",
                actions: { type: "recordFailure", params: { phase: "reserving", reason: "create-failed" } },
              },
              { guard: "hasAttemptsLeft", target: "backing-off", actions: "scheduleRetry" },
              {
                target: "#cloud-session.failed",
                actions: { type: "recordFailure", params: { phase: "reserving", reason: "retries-exhausted" } },
              },
            ],
          },
        },
        "backing-off": {
          on: {
            // The overall reservation deadline is the parent's; it wins over a retry due at once.
            "deadline.fired": { guard: { type: "isDue", params: "retry" }, target: "attempting", actions: "startAttempt" },
          },
        },
      },
    },
    "awaiting-agent": {
      on: {
        ...liveHandlers,
        // Other producers (e.g. a local start) do not mean the remote worker is there.
        "agent.started": { guard: "isAgentProducer", target: "ready", actions: "recordAgentStart" },
        "deadline.fired": {
          guard: { type: "isDue", params: "agent-start" },
          target: "failed",
          actions: { type: "recordFailure", params: { phase: "awaiting-agent", reason: "timeout" } },
        },
        "session.errored": { target: "failed", actions: { type: "recordFailure", params: { phase: "awaiting-agent", reason: "session-error" } } },
        "session.resumed": { actions: "recordResume" },
      },
    },
    ready: {
      on: {
        ...liveHandlers,
        // A turn's messageId confirmed after the turn ended (nothing is dispatched before ready).
        "prompt.dispatched": { guard: "isUnconfirmedDispatch", actions: "recordMessageId" },
        "prompt.dispatching": { guard: "isQueueHead", target: "streaming", actions: "beginTurn" },
        "session.errored": { target: "failed", actions: { type: "recordFailure", params: { phase: "ready", reason: "session-error" } } },
        "session.resumed": { actions: "recordResume" },
      },
    },
    streaming: {
      initial: "active",
      on: {
        ...liveHandlers,
        "prompt.dispatched": { guard: "isUnconfirmedDispatch", actions: ["recordMessageId", "refreshStall"] },
        "prompt.dispatch-failed": { guard: "isInFlight", target: "ready", actions: "failDispatch" },
        "assistant.message": { actions: ["appendReply", "refreshStall"] },
        "turn.idle": { target: "ready", actions: "endTurn" },
        "session.errored": { target: "failed", actions: { type: "recordFailure", params: { phase: "streaming", reason: "session-error" } } },
        "session.resumed": { actions: ["recordResume", "refreshStall"] },
      },
      states: {
        active: {
          on: {
            "assistant.delta": { actions: "refreshStall" },
            "turn.progressed": { actions: "refreshStall" },
            "turn.abort-requested": { target: "aborting", actions: { type: "beginAbort", params: { reason: "aborted" } } },
            "deadline.fired": {
              guard: { type: "isDue", params: "turn-stall" },
              target: "aborting",
              actions: { type: "beginAbort", params: { reason: "stalled" } },
            },
          },
        },
        aborting: {
          // The engine calls session.abort(); the next dispatch waits for this turn's idle, so a
          // late idle can never end the following turn.
          on: {
            "deadline.fired": {
              guard: { type: "isDue", params: "turn-stall" },
              target: "#cloud-session.failed",
              actions: { type: "recordFailure", params: { phase: "streaming", reason: "turn-stalled" } },
            },
          },
        },
      },
    },
    blocked: { type: "final", entry: { type: "settlePrompts", params: { reason: "session-blocked" } } },
    failed: { type: "final", entry: { type: "settlePrompts", params: { reason: "session-failed" } } },
    closed: { type: "final", entry: { type: "settlePrompts", params: { reason: "session-closed" } } },
  },
  output: ({ context }) => ({
    state: context.failure === null ? "closed" : context.failure.reason === "policy_blocked" ? "blocked" : "failed",
    failure: context.failure,
    closeReason: context.closeReason,
    prompts: context.prompts,
  }),
});
