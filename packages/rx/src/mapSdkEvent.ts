import type { SessionEvent } from "@cloudsession/machine";
import type { RawSessionEvent } from "./rawSessionEvent.js";

type Data = Readonly<Record<string, unknown>>;

function dataOf(event: RawSessionEvent): Data {
  return typeof event.data === "object" && event.data !== null ? (event.data as Data) : {};
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * Maps one SDK session event to the machine event it means, or `undefined` for events the
 * lifecycle does not care about (most of them, including unknown types). `at` is the engine's
 * clock when the event was observed: deadlines are measured on the engine's clock, not the
 * runtime's timestamps.
 *
 * | SDK event | machine event |
 * |---|---|
 * | `session.start` | `agent.started` (the machine only accepts producer `copilot-agent`) |
 * | `session.info` with `infoType: "remote"` and a `url` | `remote-url.published` |
 * | `assistant.message_delta` | `assistant.delta` |
 * | `assistant.message` | `assistant.message` |
 * | `session.idle` | `turn.idle` |
 * | `session.error` | `session.errored` |
 */
export function mapSdkEvent(event: RawSessionEvent, at: number): SessionEvent | undefined {
  const data = dataOf(event);
  switch (event.type) {
    case "session.start": {
      const producer = text(data.producer);
      return producer === undefined ? undefined : { type: "agent.started", producer, at };
    }
    case "session.info": {
      const url = text(data.url);
      return data.infoType === "remote" && url !== undefined ? { type: "remote-url.published", url, at } : undefined;
    }
    case "assistant.message_delta": {
      const delta = text(data.deltaContent);
      return delta === undefined ? undefined : { type: "assistant.delta", messageId: text(data.messageId) ?? "", text: delta, at };
    }
    case "assistant.message": {
      const content = text(data.content);
      return content === undefined ? undefined : { type: "assistant.message", messageId: text(data.messageId) ?? "", text: content, at };
    }
    case "session.idle":
      return { type: "turn.idle", aborted: data.aborted === true, at };
    case "session.error": {
      const errorType = text(data.errorType);
      const message = text(data.message) ?? "session error";
      return errorType === undefined ? { type: "session.errored", message, at } : { type: "session.errored", message, errorType, at };
    }
    // Stryker disable next-line ConditionalExpression: equivalent, without this return the function ends and returns undefined all the same.
    default:
      return undefined;
  }
}
