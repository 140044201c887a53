import type { SessionLogEvent } from "@cloudsession/machine";

const MAX = 80;

/**
 * An event's key data in a few words, for the timeline: ids, reasons, a prompt's first words.
 *
 * @example
 * timelineDetail({ type: "deadline.fired", deadline: "agent-start", at: 0 }) // "agent-start"
 */
export function timelineDetail(event: SessionLogEvent): string {
  switch (event.type) {
    case "session.requested":
      return `${event.repository.owner}/${event.repository.name}${event.repository.branch === undefined ? "" : `@${event.repository.branch}`}${event.mode === "local" ? " (local)" : ""}`;
    case "reservation.succeeded":
      return `SDK session ${event.sessionId}`;
    case "reservation.failed":
      return `${event.failure}: ${clip(event.message)}`;
    case "agent.started":
      return `producer ${event.producer}`;
    case "remote-url.published":
      return event.url;
    case "prompt.submitted":
      return `${event.promptId}: ${clip(event.text)}`;
    case "prompt.dispatching":
      return event.promptId;
    case "prompt.dispatched":
      return `${event.promptId} as message ${event.messageId}`;
    case "prompt.dispatch-failed":
      return `${event.promptId}${event.requeue ? " (requeued)" : ""}: ${clip(event.message)}`;
    case "assistant.delta":
    case "assistant.message":
      return clip(event.text);
    case "turn.idle":
      return event.aborted ? "aborted" : "";
    case "session.errored":
      return clip(event.errorType === undefined ? event.message : `${event.errorType}: ${event.message}`);
    case "deadline.fired":
      return event.deadline;
    case "close.requested":
      return event.reason ?? "";
    case "turn.progressed":
    case "turn.abort-requested":
    case "session.resumed":
    case "runtime.disconnected":
    case "runtime.reconnected":
      return "";
  }
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= MAX ? flat : `${flat.slice(0, MAX - 1)}…`;
}
