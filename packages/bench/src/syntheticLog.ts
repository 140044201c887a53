import { AGENT_PRODUCER, resolveSettings, type SessionEvent, type SessionRequested } from "@cloudsession/machine";
import type { RawSessionEvent } from "@cloudsession/rx";

/** One step of a synthetic session: either a raw SDK event or an event the engine itself records. */
export type ScriptStep = { readonly kind: "sdk"; readonly raw: RawSessionEvent; readonly mapped: SessionEvent | undefined } | { readonly kind: "engine"; readonly event: SessionEvent };

export interface SyntheticSession {
  readonly request: SessionRequested;
  readonly steps: readonly ScriptStep[];
  /** Events the machine receives (engine events and the mapped SDK events), in order. */
  readonly machineEvents: readonly SessionEvent[];
}

export interface SyntheticShape {
  readonly turns: number;
  readonly deltasPerTurn: number;
  /** SDK events per turn the lifecycle ignores (turn_start, turn_end, usage…), as a live stream has. */
  readonly ignoredPerTurn: number;
}

/**
 * A deterministic session: reserved, agent started, URL published, then `turns` turns of
 * submit → dispatching → dispatched → deltas → message → idle. `at` advances 1 ms per event, so
 * no deadline ever fires.
 */
export function syntheticSession(index: number, shape: SyntheticShape): SyntheticSession {
  let at = 1_000_000;
  let id = 0;
  const steps: ScriptStep[] = [];
  const engine = (event: SessionEvent) => steps.push({ kind: "engine", event });
  const sdk = (type: string, data: Readonly<Record<string, unknown>>, mapped: SessionEvent | undefined, ephemeral = false) =>
    steps.push({ kind: "sdk", raw: { id: `s${index}-e${id++}`, type, ...(ephemeral ? { ephemeral } : {}), data }, mapped });
  const request: SessionRequested = { type: "session.requested", repository: { owner: "bench", name: `repo-${index}` }, settings: resolveSettings(), at };
  engine({ type: "reservation.succeeded", sessionId: `session-${index}`, at: ++at });
  sdk("session.start", { producer: AGENT_PRODUCER }, { type: "agent.started", producer: AGENT_PRODUCER, at: ++at });
  const url = `https://github.com/copilot/tasks/session-${index}`;
  sdk("session.info", { infoType: "remote", url }, { type: "remote-url.published", url, at: ++at });
  for (let turn = 0; turn < shape.turns; turn++) {
    const promptId = `p${index}-${turn}`;
    const messageId = `m${index}-${turn}`;
    engine({ type: "prompt.submitted", promptId, text: `prompt ${turn}`, at: ++at });
    engine({ type: "prompt.dispatching", promptId, at: ++at });
    engine({ type: "prompt.dispatched", promptId, messageId: `u${index}-${turn}`, at: ++at });
    for (let i = 0; i < shape.ignoredPerTurn; i++) sdk(i % 2 === 0 ? "assistant.turn_start" : "session.usage_info", { turnId: String(turn) }, undefined, i % 2 === 1);
    for (let d = 0; d < shape.deltasPerTurn; d++) {
      const text = `chunk${d} `;
      sdk("assistant.message_delta", { messageId, deltaContent: text }, { type: "assistant.delta", messageId, text, at: ++at }, true);
    }
    const content = `reply ${turn}`;
    sdk("assistant.message", { messageId, content }, { type: "assistant.message", messageId, text: content, at: ++at });
    sdk("session.idle", {}, { type: "turn.idle", aborted: false, at: ++at }, true);
  }
  const machineEvents = steps.flatMap((step) => (step.kind === "engine" ? [step.event] : step.mapped === undefined ? [] : [step.mapped]));
  return { request, steps, machineEvents };
}
