import { resolveSettings, type SessionLogEvent } from "@cloudsession/machine";
import { describe, expect, test } from "vitest";
import { replayTransitions, statePath } from "../src/transitions.js";

const log: SessionLogEvent[] = [
  { type: "session.requested", repository: { owner: "octo", name: "demo" }, settings: resolveSettings(), at: 1000 },
  { type: "prompt.submitted", promptId: "p1", text: "hi", at: 1000 },
  { type: "reservation.succeeded", sessionId: "s", at: 1100 },
  { type: "agent.started", producer: "copilot-agent", at: 1200 },
  { type: "prompt.dispatching", promptId: "p1", at: 1201 },
  { type: "prompt.dispatched", promptId: "p1", messageId: "m", at: 1202 },
  { type: "turn.idle", aborted: false, at: 1300 },
  { type: "close.requested", at: 1301 },
  { type: "close.requested", at: 1302 },
];

describe("replayTransitions", () => {
  test("prints state changes only, with the causing event and its recorded time; a final state absorbs the rest", () => {
    expect(replayTransitions("s-1", log).map(({ seq, from, to, event, at }) => [seq, from, to, event, at])).toEqual([
      [0, null, "reserving.attempting", "session.requested", 1000],
      [1, "reserving.attempting", "awaiting-agent", "reservation.succeeded", 1100],
      [2, "awaiting-agent", "ready", "agent.started", 1200],
      [3, "ready", "streaming.active", "prompt.dispatching", 1201],
      [4, "streaming.active", "ready", "turn.idle", 1300],
      [5, "ready", "closed", "close.requested", 1301],
    ]);
  });
  test("statePath flattens nested values", () => {
    expect(statePath("ready")).toBe("ready");
    expect(statePath({ reserving: "backing-off" })).toBe("reserving.backing-off");
  });
});
