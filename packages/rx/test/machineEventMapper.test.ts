import { describe, expect, test } from "vitest";
import { createMachineEventMapper, type RawSessionEvent } from "../src/index.js";

const start: RawSessionEvent = { id: "e1", type: "session.start", data: { producer: "copilot-agent" } };
const info: RawSessionEvent = { id: "e2", type: "session.info", data: { infoType: "remote", url: "https://github.com/copilot/tasks/s1" } };
const noise: RawSessionEvent = { id: "e3", type: "session.title_changed", ephemeral: true, data: { title: "t" } };

describe("createMachineEventMapper: toMachineEvents as a plain function", () => {
  test("maps what the lifecycle uses, stamped with the clock read at that moment; the rest gives undefined", () => {
    let clock = 10;
    const toMachineEvent = createMachineEventMapper({ now: () => clock++ });
    expect(toMachineEvent(start)).toEqual({ type: "agent.started", producer: "copilot-agent", at: 10 });
    expect(toMachineEvent(noise)).toBeUndefined();
    expect(toMachineEvent(info)).toEqual({ type: "remote-url.published", url: "https://github.com/copilot/tasks/s1", at: 12 });
  });

  test("drops a second delivery of an event id (e.g. live, then again from history); events without an id always pass", () => {
    const toMachineEvent = createMachineEventMapper({ now: () => 0 });
    expect(toMachineEvent(start)).toBeDefined();
    expect(toMachineEvent(start)).toBeUndefined();
    const anonymous: RawSessionEvent = { type: "assistant.message", data: { messageId: "m1", content: "x" } };
    expect(toMachineEvent(anonymous)).toBeDefined();
    expect(toMachineEvent(anonymous)).toBeDefined();
  });

  test("remembers the last `dedupeCapacity` ids, and each mapper its own", () => {
    const toMachineEvent = createMachineEventMapper({ now: () => 0, dedupeCapacity: 1 });
    toMachineEvent(start);
    toMachineEvent(info);
    expect(toMachineEvent(start)).toBeDefined(); // e1 was forgotten when e2 came
    expect(createMachineEventMapper({ now: () => 0 })(info)).toBeDefined();
  });
});
