import { decodeEvent } from "@cloudsession/engine";
import { START, type EventStore } from "@cloudsession/store";

export interface SubmittedPrompt {
  readonly promptId: string;
  readonly text: string;
}

/** The prompts a session's log holds (its `prompt.submitted` events), in log order: what a 202 promised. */
export async function submittedPrompts(store: EventStore, sessionId: string): Promise<SubmittedPrompt[]> {
  const { events } = await store.readStream(sessionId);
  const prompts: SubmittedPrompt[] = [];
  for (const row of events) {
    const event = decodeEvent(row, row);
    if (event.type === "prompt.submitted") prompts.push({ promptId: event.promptId, text: event.text });
  }
  return prompts;
}

/** Every event in the store, all streams: a refusal that wrote nothing leaves it unchanged. */
export async function storedEventCount(store: EventStore): Promise<number> {
  let count = 0;
  let after = START;
  for (;;) {
    const page = await store.readAll({ after, limit: 1_000 });
    count += page.events.length;
    if (!page.hasMore) return count;
    after = page.checkpoint;
  }
}
