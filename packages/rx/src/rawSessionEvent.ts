/**
 * A session event as the SDK delivers it. Deliberately looser than the SDK's generated union:
 * the runtime adds event types faster than SDK releases, and unknown types must flow through
 * (and be ignored) rather than fail to type-check or crash.
 */
export interface RawSessionEvent {
  readonly type: string;
  readonly id?: string;
  readonly timestamp?: string;
  readonly ephemeral?: boolean;
  readonly data?: unknown;
}

/** Anything with the SDK session's `on(handler)` subscription method, e.g. a `CopilotSession`. */
export interface SessionEventSource<E extends RawSessionEvent = RawSessionEvent> {
  on(handler: (event: E) => void): () => void;
}
