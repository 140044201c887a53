import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ephemeralTypes, loadFixture, persistedShape, type FixtureName } from "../src/fixture.js";
import { fixturesFromRun } from "../src/fixturesFromRun.js";
import { runLocalScript } from "../src/localScript.js";
import { SIMULATOR_SCENARIO, simulatorScriptTarget } from "../src/simulatorScriptTarget.js";
import type { Fixture } from "../src/fixture.js";

// The simulator runs the same local-session script the real runtime was recorded with, and its
// streams are held to the committed fixtures (packages/fidelity/fixtures, from scripts/record.ts).
let simulator: Simulator;
let ours: Map<FixtureName, Fixture>;

beforeAll(async () => {
  simulator = await startSimulator(SIMULATOR_SCENARIO);
  const run = await runLocalScript(simulatorScriptTarget(simulator), 15_000);
  ours = new Map(fixturesFromRun(run, { sdk: "simulator", platform: "simulator", paths: [] }).map((f) => [f.name, f]));
});

afterAll(async () => {
  await simulator.close();
});

const compared: FixtureName[] = ["local-create", "local-turn", "local-second-turn", "local-abort", "local-history", "local-resume", "local-history-after-resume"];

describe("simulator vs the real runtime's recorded streams (local session)", () => {
  it.each(compared)("%s: same persisted event types, in the same order, with the same data keys", (name) => {
    expect(persistedShape(ours.get(name)!.events)).toEqual(persistedShape(loadFixture(name).events));
  });

  it.each(compared)("%s: same envelope keys per event type", (name) => {
    const keysByType = (fixture: Fixture) => new Map(fixture.events.map((e) => [e.type, e.envelopeKeys.join(",")]));
    const real = keysByType(loadFixture(name));
    for (const [type, keys] of keysByType(ours.get(name)!)) {
      if (real.has(type)) expect({ type, keys }).toEqual({ type, keys: real.get(type) });
    }
  });

  // Ephemeral noise may differ: the simulator emits a subset of the real types (no model.*, usage,
  // MCP, skills, tools or streaming_delta; see docs/real-runtime.md), but never a type the runtime
  // does not, and the ones the engine reads have the real data keys.
  it.each(compared)("%s: the simulator's ephemeral types are a subset of the real ones", (name) => {
    const real = ephemeralTypes(loadFixture(name).events);
    expect(ephemeralTypes(ours.get(name)!.events).filter((type) => !real.includes(type))).toEqual([]);
  });

  it.each(["local-turn", "local-abort"] as const)("%s: deltas, message_start, idles carry the real data keys", (name) => {
    const shapes = (fixture: Fixture) =>
      fixture.events
        .filter((e) => ["assistant.message_start", "assistant.message_delta", "assistant.idle", "session.idle"].includes(e.type))
        .map((e) => `${e.type}(${e.dataKeys.join(",")})`);
    const dedupe = (list: string[]) => list.filter((item, i) => list[i - 1] !== item);
    expect(dedupe(shapes(ours.get(name)!))).toEqual(dedupe(shapes(loadFixture(name))));
  });
});
