import type { PromptRecord } from "./context.js";

/*
 * A session's prompts, in submission order, are a settled prefix followed by the queue: a prompt
 * leaves the queue only from its head (`prompt.dispatching` is guarded by `isQueueHead`), and the
 * only way back in is a failed dispatch requeueing the prompt that had just left the head. So the
 * prompts that change — the queue and the turn in flight right before it — sit at the end, and
 * these helpers look from the end: their cost follows the queue's length, not the session's
 * history (a long-lived session with thousands of prompts no longer pays per event for all of them).
 * The invariant is checked by the machine's property tests.
 */

/** Where the queue starts: the index of its head, or the list's length when nothing is queued. */
export function queueStart(prompts: readonly PromptRecord[]): number {
  let start = prompts.length;
  while (start > 0 && prompts[start - 1]?.status === "queued") start--;
  return start;
}

/** The queue's head: the first of the queued prompts at the end of the list. */
export function queueHead(prompts: readonly PromptRecord[]): PromptRecord | undefined {
  return prompts[queueStart(prompts)];
}

/** The prompts with `id`'s record replaced by `change(record)`; the same array when there is none. */
export function updatePrompt(prompts: readonly PromptRecord[], id: string, change: (prompt: PromptRecord) => PromptRecord): readonly PromptRecord[] {
  const index = lastIndexOfPrompt(prompts, id);
  if (index < 0) return prompts;
  const updated = prompts.slice();
  updated[index] = change(prompts[index] as PromptRecord);
  return updated;
}

/** The prompt with `id`, if any. */
export function findPrompt(prompts: readonly PromptRecord[], id: string): PromptRecord | undefined {
  return prompts[lastIndexOfPrompt(prompts, id)];
}

function lastIndexOfPrompt(prompts: readonly PromptRecord[], id: string): number {
  for (let index = prompts.length - 1; index >= 0; index--) if (prompts[index]?.id === id) return index;
  return -1;
}
