export { sessionMachine } from "./sessionMachine.js";
export type { FinalStateName, SessionInput, SessionOutcome } from "./sessionMachine.js";
export { replay, inputFromRequest, InvalidLogError } from "./replay.js";
export type { SessionSnapshot } from "./replay.js";
export { createSessionActor } from "./sessionActor.js";
export type { SessionActor, SessionActorObserver, SessionActorOptions } from "./sessionActor.js";
export { isFinal, lifecycleState, nextDeadline, promptInFlight, promptToDispatch, queuedPrompts, wantsAbort, wantsReservation } from "./selectors.js";
export { PromptList, PromptListError } from "./promptList.js";
export type { LifecycleState } from "./selectors.js";
export { isDeadlineDue } from "./deadlineRules.js";
export { AGENT_PRODUCER, CONTACT_DEADLINES, sessionEventTypes } from "./events.js";
export type {
  AgentStarted,
  AssistantDelta,
  AssistantMessage,
  CloseRequested,
  DeadlineFired,
  DeadlineName,
  PromptDispatchFailed,
  PromptDispatched,
  PromptDispatching,
  PromptSubmitted,
  RemoteUrlPublished,
  ReservationFailed,
  ReservationFailure,
  ReservationSucceeded,
  RuntimeDisconnected,
  RuntimeReconnected,
  SessionErrored,
  SessionEvent,
  SessionEventType,
  SessionLogEvent,
  SessionRequested,
  SessionResumed,
  TurnAbortRequested,
  TurnIdle,
  TurnProgressed,
} from "./events.js";
export { noDeadlines } from "./context.js";
export type { Deadlines, FailurePhase, FailureReason, PromptRecord, PromptStatus, SessionContext, SessionFailure } from "./context.js";
export { backoffDelayMs, checkSettings, defaultSessionSettings, resolveSettings } from "./settings.js";
export type { RetrySettings, SessionSettings, SessionSettingsInput, SettingsCheck } from "./settings.js";
export { checkRepository, formatRepository, parseRepository } from "./repository.js";
export type { Repository, RepositoryCheck, RepositoryProblem } from "./repository.js";
