import { test } from "@fast-check/vitest";
import { createSessionActor, inputFromRequest, replay, type SessionRequested } from "@cloudsession/machine";
import { describe, expect } from "vitest";
import { edgeTaken, machineGraph, sessionDetail } from "../src/index.js";
import { statePath } from "../src/statePath.js";
import { choicesArb, logFrom, numRuns } from "./support/logs.js";

const graph = machineGraph();

describe("the path taken, drawn on the diagram", () => {
  test.prop([choicesArb], { numRuns })("every change of state in a log is a drawn edge from the old state (or a parent) to the new one (or a parent)", (choices) => {
    const log = logFrom(choices);
    const actor = createSessionActor(inputFromRequest(log[0] as SessionRequested));
    for (const event of log.slice(1)) {
      const before = statePath(actor.getSnapshot().value);
      if (event.type === "session.requested") throw new Error("a second request");
      actor.send(event);
      const after = statePath(actor.getSnapshot().value);
      const edge = edgeTaken(graph, before, after, event.type);
      if (before === after) {
        expect(edge).toBeNull();
        continue;
      }
      expect(edge, `${before} → ${after} on ${event.type}`).not.toBeNull();
      const [from, to] = edge!.split("->");
      expect(before === from || before.startsWith(`${from!}.`)).toBe(true);
      expect(after === to || after.startsWith(`${to!}.`)).toBe(true);
    }
  });

  test("unchanged states and moves no transition explains give no edge", () => {
    expect(edgeTaken(graph, "ready", "ready", "prompt.submitted")).toBeNull();
    expect(edgeTaken(graph, "ready", "streaming.active", "prompt.dispatching")).toBe("ready->streaming");
    expect(edgeTaken(graph, "streaming.aborting", "ready", "turn.idle")).toBe("streaming->ready");
    expect(edgeTaken(graph, "reserving.attempting", "closed", "close.requested")).toBe("reserving->closed");
    expect(edgeTaken(graph, "ready", "blocked", "close.requested")).toBeNull();
  });

  test.prop([choicesArb], { numRuns })("the step-through replay ends where replay(log) does, one step per event", (choices) => {
    const log = logFrom(choices);
    const rows = log.map((event, index) => {
      const { type, ...data } = event;
      return { streamId: "s-1", version: index + 1, position: index + 1, checkpoint: `1/${index + 1}`, type, data, metadata: {}, recordedAt: event.at } as never;
    });
    const detail = sessionDetail(graph, rows, false);
    expect(detail.replay).toHaveLength(log.length);
    expect(detail.replay.at(-1)?.state).toBe(statePath(replay(log).value));
    expect(detail.timeline.map((entry) => entry.type)).toEqual(log.map((event) => event.type));
    expect(detail.summary.state).toBe(statePath(replay(log).value).split(".")[0]);
  });
});
