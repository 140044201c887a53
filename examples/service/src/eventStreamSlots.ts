import { HttpError } from "./httpError.js";

/** Counts open event streams, in all and per client, and refuses one over either cap. */
export interface EventStreamSlots {
  /**
   * Takes a slot for `client` (its address) and returns the function that gives it back (once;
   * later calls do nothing).
   *
   * @throws HttpError 503 `EVENT_STREAMS_FULL` over the total cap, 429 `TOO_MANY_EVENT_STREAMS` over the client's, both with `Retry-After`.
   */
  take(client: string): () => void;
  /** Streams open now. */
  readonly open: number;
}

/**
 * An event stream holds a connection for as long as its session lives: without a cap, one client
 * (or many) opening thousands starves everybody else of connections and memory.
 *
 * @example
 * const slots = createEventStreamSlots(500, 16);
 * const release = slots.take(request.ip);
 * try { await stream.done; } finally { release(); }
 */
export function createEventStreamSlots(max: number, maxPerClient: number, retryAfterSeconds = 5): EventStreamSlots {
  const perClient = new Map<string, number>();
  let open = 0;
  return {
    take(client) {
      const held = perClient.get(client) ?? 0;
      if (held >= maxPerClient) throw new HttpError(429, "TOO_MANY_EVENT_STREAMS", `this client already has ${held} event streams open (at most ${maxPerClient}); close one first`, { retryAfterSeconds });
      if (open >= max) throw new HttpError(503, "EVENT_STREAMS_FULL", "the service holds as many event streams as it takes; retry later", { retryAfterSeconds });
      open++;
      perClient.set(client, held + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        open--;
        const left = (perClient.get(client) ?? 1) - 1;
        if (left === 0) perClient.delete(client);
        else perClient.set(client, left);
      };
    },
    get open() {
      return open;
    },
  };
}
