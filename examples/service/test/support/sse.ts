/** One Server-Sent Event as the service writes it. */
export interface ServerSentEvent {
  readonly id: number;
  readonly event: string;
  readonly data: { readonly type: string; readonly [key: string]: unknown };
}

export interface ReadEventsOptions {
  readonly lastEventId?: number;
  /** Stop reading (and disconnect) once this holds; by default read until the server ends the stream. */
  readonly until?: (events: readonly ServerSentEvent[]) => boolean;
  readonly timeoutMs?: number;
}

/** Reads `GET url` as an event stream, the way `EventSource` would, and returns what arrived. */
export function readEvents(url: string, options: ReadEventsOptions = {}): Promise<{ events: ServerSentEvent[]; ended: boolean }> {
  return connectEvents(url, options).result;
}

export interface EventConnection {
  /** Every event so far (grows while the stream is read). */
  readonly events: readonly ServerSentEvent[];
  /** Resolves once the response headers arrived: the server holds the stream. */
  readonly opened: Promise<void>;
  readonly result: Promise<{ events: ServerSentEvent[]; ended: boolean }>;
}

/** Like {@link readEvents}, with a handle on the connection while it is read. */
export function connectEvents(url: string, options: ReadEventsOptions = {}): EventConnection {
  const events: ServerSentEvent[] = [];
  let opened!: () => void;
  const openedPromise = new Promise<void>((resolve) => (opened = resolve));
  const headers: Record<string, string> = { accept: "text/event-stream" };
  if (options.lastEventId !== undefined) headers["last-event-id"] = String(options.lastEventId);
  const timeoutMs = options.timeoutMs ?? 20_000;
  const result = (async () => {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    if (response.status !== 200 || !response.body) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
    opened();
    const reader = response.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return { events, ended: true };
      buffer += decoder.decode(chunk.value, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end !== -1) {
        const event = parseBlock(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        if (event) events.push(event);
      }
      if (options.until?.(events)) {
        await reader.cancel();
        return { events, ended: false };
      }
    }
  })();
  return { events, opened: openedPromise, result };
}

function parseBlock(block: string): ServerSentEvent | undefined {
  const fields = new Map<string, string>();
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue; // a comment (keep-alive)
    const colon = line.indexOf(":");
    if (colon === -1) continue;
    fields.set(line.slice(0, colon), line.slice(colon + 1).replace(/^ /, ""));
  }
  const data = fields.get("data");
  if (data === undefined) return undefined;
  return { id: Number(fields.get("id")), event: fields.get("event") ?? "message", data: JSON.parse(data) as ServerSentEvent["data"] };
}
