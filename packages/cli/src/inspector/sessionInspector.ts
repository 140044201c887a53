import { createWebSocketInspector, type StatelyInspectionEvent } from "@statelyai/inspect";
import type { InspectionEvent } from "xstate";
import { redact } from "./redact.js";

/** The Stately inspector, connected to our relay, with everything sensitive redacted. */
export interface SessionInspector {
  inspect(event: InspectionEvent): void;
  /** Waits for queued inspection messages to go out, then disconnects. */
  stop(): Promise<void>;
}

/**
 * Connects a `createWebSocketInspector` to `wsUrl`. Events and contexts are sanitized, and the
 * whole message once more before it is sent: snapshots also carry the machine's output, whose
 * prompts hold the texts and replies.
 *
 * @example
 * const inspector = createSessionInspector(relay.wsUrl);
 * const engine = createEngine({ runtimeUrl, inspect: (event) => inspector.inspect(event) });
 */
export function createSessionInspector(wsUrl: string): SessionInspector {
  const inspector = createWebSocketInspector({
    url: wsUrl,
    sanitizeEvent: (event) => redact(event) as typeof event,
    sanitizeContext: (context) => redact(context) as typeof context,
    serialize: (event: StatelyInspectionEvent) => redact(event) as StatelyInspectionEvent,
  });
  return {
    inspect: (event) => inspector.inspect.next?.(event),
    async stop() {
      // The inspector converts events on an idle callback: let the last ones through first.
      await new Promise((resolve) => setTimeout(resolve, 200));
      inspector.stop();
    },
  };
}
