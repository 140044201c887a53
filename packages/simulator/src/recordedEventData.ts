import type { SessionEvent } from "./events.js";

// The data of the larger events a session writes, shaped as recorded from the real runtime
// (fixtures under packages/fidelity), kept apart so the session code reads as behaviour.

export const MODEL = "claude-sonnet-4.5";
export const SYSTEM_PROMPT = "You are GitHub Copilot, simulated by @cloudsession/simulator.";
/** The real runtime counts model calls within one interaction; one call per prompt here. */
export const TURN_ID = "0";

type Data = Record<string, unknown>;

/** What the start, resume and shutdown events say about the session. */
export interface SessionFacts {
  readonly id: string;
  readonly cloud: boolean;
  readonly repository: string | undefined;
  readonly startTime: number;
}

/** `session.start`, written when the worker connects (producer copilot-agent). */
export function sessionStartData(session: SessionFacts, branch: string | undefined, copilotVersion: string): Data {
  const context: Data = { cwd: "/workspace" };
  if (session.repository !== undefined) {
    Object.assign(context, { repository: session.repository, hostType: "github", repositoryHost: "github.com" });
    if (branch !== undefined) context["branch"] = branch;
  }
  return {
    sessionId: session.id,
    version: 1,
    producer: "copilot-agent",
    copilotVersion,
    startTime: new Date(session.startTime).toISOString(),
    context,
    ...(session.cloud ? {} : { contextTier: null }),
    remoteSteerable: session.cloud,
    alreadyInUse: false,
  };
}

/** `session.resume`; local sessions carry the extra keys of fixture `local-resume.json`. */
export function sessionResumeData(
  session: SessionFacts,
  persisted: readonly SessionEvent[],
  at: { readonly now: number; readonly alreadyInUse: boolean; readonly sessionWasActive: boolean },
): Data {
  return {
    resumeTime: new Date(at.now).toISOString(),
    eventCount: persisted.length,
    ...(session.cloud ? {} : { contextTier: null, sessionLimits: null, eventsFileSizeBytes: JSON.stringify(persisted).length }),
    context: { cwd: "/workspace", ...(session.repository === undefined ? {} : { repository: session.repository }) },
    remoteSteerable: session.cloud,
    alreadyInUse: at.alreadyInUse,
    sessionWasActive: at.sessionWasActive,
  };
}

/** `session.shutdown`, written when the last client leaves a local session. */
export function sessionShutdownData(session: SessionFacts, persisted: readonly SessionEvent[], turnCount: number): Data {
  return {
    shutdownType: "routine",
    totalPremiumRequests: turnCount,
    totalNanoAiu: 0,
    totalApiDurationMs: 0,
    sessionStartTime: session.startTime,
    eventsFileSizeBytes: JSON.stringify(persisted).length,
    codeChanges: { linesAdded: 0, linesRemoved: 0, filesModified: [] },
    modelMetrics: {},
    agentMetrics: {},
    currentModel: MODEL,
    currentTokens: 0,
    systemTokens: 0,
    conversationTokens: 0,
    toolDefinitionsTokens: 0,
  };
}

/** Keys the real runtime adds to a local session's `user.message` (fixture `local-turn.json`). */
export function localUserMessageData(prompt: string, now: number, parentAgentTaskId: string): Data {
  return {
    transformedContent: `<current_datetime>${new Date(now).toISOString()}</current_datetime>\n\n${prompt}`,
    supportedNativeDocumentMimeTypes: [],
    parentAgentTaskId,
  };
}
