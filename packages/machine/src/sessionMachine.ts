import { assign, setup } from "xstate";
import { noDeadlines, type PromptRecord, type SessionContext, type SessionFailure } from "./context.js";
import { contextUpdates, type ContextUpdate } from "./contextUpdates.js";
import { PromptList } from "./promptList.js";
import { AGENT_PRODUCER, type DeadlineName, type SessionEvent } from "./events.js";
import { isDeadlineDue } from "./deadlineRules.js";
import type { Repository } from "./repository.js";
import type { SessionSettings } from "./settings.js";

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
  /** Every prompt, settled, as a plain array: an outcome is a report, made once. */
  readonly prompts: readonly PromptRecord[];
}

/** The context a session starts with (also the fast path's initial snapshot, see fastTransition.ts). */
export function initialContext(input: SessionInput): SessionContext {
  return {
    repository: input.repository,
    settings: input.settings,
    requestedAt: input.requestedAt,
    sessionId: null,
    remoteUrl: null,
    agentStartedAt: null,
    attempts: 1,
    prompts: PromptList.empty,
    inFlight: null,
    abortReason: null,
    deadlines: { ...noDeadlines, reservation: input.requestedAt + input.settings.reservationTimeoutMs },
    failure: null,
    closeReason: null,
    resumes: 0,
    contactLostAt: null,
  };
}

/** The machine's output at a final state (also computed by the fast path, see fastTransition.ts). */
export function sessionOutcome(context: SessionContext): SessionOutcome {
  return {
    state: context.failure === null ? "closed" : context.failure.reason === "policy_blocked" ? "blocked" : "failed",
    failure: context.failure,
    closeReason: context.closeReason,
    prompts: context.prompts.toArray(),
  };
}

/** The machine's `assign` action for a context update (the same function the fast path calls). */
function assignFrom<Params>(update: ContextUpdate<Params>) {
  return assign<SessionContext, SessionEvent, Params, SessionEvent, never>(({ context, event }, params) => update(context, event, params));
}

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

/**
 * Contact with the runtime, once a task is reserved (before, the create call has its own retries
 * and deadline): a loss pauses the deadlines that wait on the runtime (see `isDue`) and starts the
 * out-of-contact limit; contact back resumes them, pushed back by the time away.
 */
const contactHandlers = {
  "runtime.disconnected": { guard: "isInContact", actions: "recordContactLost" },
  "runtime.reconnected": { guard: "isOutOfContact", actions: "recordContactBack" },
} as const;

/** The out-of-contact limit ends a live session in `phase`, wherever it waited. */
function unreachable(phase: "awaiting-agent" | "ready" | "streaming") {
  return {
    guard: { type: "isDue", params: "unreachable" },
    target: "#cloud-session.failed",
    actions: { type: "recordFailure", params: { phase, reason: "runtime-unreachable" } },
  } as const;
}

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
    // Out of contact, what waits on the runtime is not judged: the engine has not looked.
    isDue: ({ context, event }, deadline: DeadlineName) => event.type === "deadline.fired" && event.deadline === deadline && isDeadlineDue(context, deadline, event.at),
    isInContact: ({ context }) => context.contactLostAt === null,
    isOutOfContact: ({ context }) => context.contactLostAt !== null,
    // Out of contact a send could not be confirmed: nothing is dispatched until the re-attach.
    isQueueHead: ({ context, event }) => event.type === "prompt.dispatching" && context.contactLostAt === null && context.prompts.queueHead?.id === event.promptId,
    isInFlight: ({ context, event }) => "promptId" in event && context.inFlight === event.promptId,
    isNewPrompt: ({ context, event }) => event.type === "prompt.submitted" && !context.prompts.has(event.promptId),
    isUnconfirmedDispatch: ({ context, event }) => {
      if (event.type !== "prompt.dispatched") return false;
      const prompt = context.prompts.get(event.promptId);
      return prompt !== undefined && prompt.messageId === undefined && prompt.status !== "queued" && prompt.status !== "undelivered";
    },
  },
  // Each action's change to the context is a plain function (contextUpdates.ts), shared with the fast path.
  actions: {
    queuePrompt: assignFrom(contextUpdates.queuePrompt),
    recordRemoteUrl: assignFrom(contextUpdates.recordRemoteUrl),
    recordResume: assignFrom(contextUpdates.recordResume),
    recordReservation: assignFrom(contextUpdates.recordReservation),
    scheduleRetry: assignFrom(contextUpdates.scheduleRetry),
    startAttempt: assignFrom(contextUpdates.startAttempt),
    recordFailure: assignFrom(contextUpdates.recordFailure),
    recordAgentStart: assignFrom(contextUpdates.recordAgentStart),
    beginTurn: assignFrom(contextUpdates.beginTurn),
    recordMessageId: assignFrom(contextUpdates.recordMessageId),
    failDispatch: assignFrom(contextUpdates.failDispatch),
    refreshStall: assignFrom(contextUpdates.refreshStall),
    appendReply: assignFrom(contextUpdates.appendReply),
    endTurn: assignFrom(contextUpdates.endTurn),
    beginAbort: assignFrom(contextUpdates.beginAbort),
    recordClose: assignFrom(contextUpdates.recordClose),
    recordContactLost: assignFrom(contextUpdates.recordContactLost),
    recordContactBack: assignFrom(contextUpdates.recordContactBack),
    settlePrompts: assignFrom(contextUpdates.settlePrompts),
  },
}).createMachine({
  id: "cloud-session",
  context: ({ input }) => initialContext(input),
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
        ...contactHandlers,
        // Other producers (e.g. a local start) do not mean the remote worker is there.
        "agent.started": { guard: "isAgentProducer", target: "ready", actions: "recordAgentStart" },
        "deadline.fired": [
          {
            guard: { type: "isDue", params: "agent-start" },
            target: "failed",
            actions: { type: "recordFailure", params: { phase: "awaiting-agent", reason: "timeout" } },
          },
          unreachable("awaiting-agent"),
        ],
        "session.errored": { target: "failed", actions: { type: "recordFailure", params: { phase: "awaiting-agent", reason: "session-error" } } },
        "session.resumed": { actions: "recordResume" },
      },
    },
    ready: {
      on: {
        ...liveHandlers,
        ...contactHandlers,
        // A turn's messageId confirmed after the turn ended (nothing is dispatched before ready).
        "prompt.dispatched": { guard: "isUnconfirmedDispatch", actions: "recordMessageId" },
        "prompt.dispatching": { guard: "isQueueHead", target: "streaming", actions: "beginTurn" },
        "session.errored": { target: "failed", actions: { type: "recordFailure", params: { phase: "ready", reason: "session-error" } } },
        "deadline.fired": unreachable("ready"),
        "session.resumed": { actions: "recordResume" },
      },
    },
    streaming: {
      initial: "active",
      on: {
        ...liveHandlers,
        ...contactHandlers,
        "prompt.dispatched": { guard: "isUnconfirmedDispatch", actions: ["recordMessageId", "refreshStall"] },
        "prompt.dispatch-failed": { guard: "isInFlight", target: "ready", actions: "failDispatch" },
        "assistant.message": { actions: ["appendReply", "refreshStall"] },
        "turn.idle": { target: "ready", actions: "endTurn" },
        "session.errored": { target: "failed", actions: { type: "recordFailure", params: { phase: "streaming", reason: "session-error" } } },
        "session.resumed": { actions: ["recordResume", "refreshStall"] },
        "deadline.fired": unreachable("streaming"),
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
  output: ({ context }) => sessionOutcome(context),
});
