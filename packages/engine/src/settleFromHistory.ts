import { AGENT_PRODUCER, lifecycleState, type PromptRecord, type SessionEvent, type SessionSnapshot } from "@cloudsession/machine";
import { mapSdkEvent, type RawSessionEvent } from "@cloudsession/rx";

type Data = Readonly<Record<string, unknown>>;
const dataOf = (event: RawSessionEvent): Data => (typeof event.data === "object" && event.data !== null ? (event.data as Data) : {});

const dispatchedBefore = (prompt: PromptRecord) => prompt.status === "sent" || prompt.status === "completed" || prompt.status === "interrupted";

/**
 * What happened while nobody was watching, read from a session's stored history after a restart
 * or a lost connection (ephemeral events such as `session.idle` are not in it):
 *
 * - a `copilot-agent` start and the remote URL, if the log lacks them;
 * - a write-ahead dispatch intent with no result: delivered when a `user.message` with the prompt's
 *   text follows the ones already accounted for (it gets that messageId), otherwise requeued — so
 *   the prompt reaches the worker once, never zero times and never twice;
 * - the running turn's assistant messages not yet in the log, and its end: a turn whose last
 *   stored turn event (session-level records aside) is `assistant.turn_end` or `abort` is over.
 */
export function settleFromHistory(snapshot: SessionSnapshot, history: readonly RawSessionEvent[], knownAssistantMessages: ReadonlySet<string>, now: number): SessionEvent[] {
  const context = snapshot.context;
  const settled: SessionEvent[] = [];
  const state = lifecycleState(snapshot);
  if (state === "awaiting-agent" && history.some((event) => event.type === "session.start" && dataOf(event).producer === AGENT_PRODUCER)) {
    settled.push({ type: "agent.started", producer: AGENT_PRODUCER, at: now });
  }
  if (context.remoteUrl === null) {
    const info = history.find((event) => event.type === "session.info" && dataOf(event).infoType === "remote" && typeof dataOf(event).url === "string");
    const mapped = info && mapSdkEvent(info, now);
    if (mapped) settled.push(mapped);
  }
  if (state !== "streaming" || context.inFlight === null) return settled;

  const prompt = context.prompts.get(context.inFlight);
  if (!prompt) return settled;
  const userMessages = history.map((event, index) => ({ event, index })).filter(({ event }) => event.type === "user.message");
  let messageId = prompt.messageId;
  let userIndex: number | undefined;
  if (messageId === undefined) {
    const accountedFor = context.prompts.filter(dispatchedBefore).length;
    const delivered = userMessages.slice(accountedFor).find(({ event }) => dataOf(event).content === prompt.text);
    if (!delivered) {
      settled.push({ type: "prompt.dispatch-failed", promptId: prompt.id, message: "the runtime had not received it when the engine stopped", requeue: true, at: now });
      return settled;
    }
    const recordedId = dataOf(delivered.event).messageId;
    messageId = typeof recordedId === "string" ? recordedId : `recovered-${prompt.id}`;
    userIndex = delivered.index;
    settled.push({ type: "prompt.dispatched", promptId: prompt.id, messageId, at: now });
  } else {
    userIndex = userMessages.find(({ event }) => dataOf(event).messageId === messageId)?.index;
  }
  if (userIndex === undefined) return settled;

  const after = history.slice(userIndex + 1);
  for (const event of after) {
    if (event.type !== "assistant.message") continue;
    const mapped = mapSdkEvent(event, now);
    if (mapped?.type === "assistant.message" && !knownAssistantMessages.has(mapped.messageId)) settled.push(mapped);
  }
  // Session-level records (session.resume, session.shutdown, warnings) say nothing about the turn.
  const last = after.filter((event) => !event.type.startsWith("session.")).at(-1);
  if (last && (last.type === "assistant.turn_end" || last.type === "abort")) {
    settled.push({ type: "turn.idle", aborted: after.some((event) => event.type === "abort"), at: now });
  }
  return settled;
}
