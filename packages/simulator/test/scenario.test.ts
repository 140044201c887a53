import { describe, expect, it } from "vitest";
import {
  behaviourFor,
  createRng,
  defineScenario,
  deriveSeed,
  DEFAULT_BEHAVIOUR,
  isSimulatorError,
  PRESET_NAMES,
  presetScenario,
  replyFor,
  untidyBehaviour,
} from "../src/index.js";

describe("rng", () => {
  it("replays the same stream for the same seed", () => {
    const a = createRng(7);
    const b = createRng(7);
    const drawsA = Array.from({ length: 50 }, () => a.next());
    expect(Array.from({ length: 50 }, () => b.next())).toEqual(drawsA);
    expect(drawsA.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(createRng(8).next()).not.toBe(drawsA[0]);
  });

  it("draws integers within inclusive bounds and uuid-shaped ids", () => {
    const rng = createRng(1);
    const ints = Array.from({ length: 500 }, () => rng.int(3, 5));
    expect(new Set(ints)).toEqual(new Set([3, 4, 5]));
    for (let i = 0; i < 100; i++) {
      expect(rng.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it("derives independent child seeds", () => {
    const seeds = new Set(Array.from({ length: 1000 }, (_, i) => deriveSeed(42, i)));
    expect(seeds.size).toBe(1000);
    expect(deriveSeed(42, 3)).toBe(deriveSeed(42, 3));
  });
});

describe("scenario", () => {
  it("fills defaults and layers per-repository overrides", () => {
    const s = defineScenario({ seed: 3, timeScale: 0.5, repositories: { "octo/slow": { agentConnectLatencyMs: [9000, 9000] } } });
    expect(s.defaults).toEqual(DEFAULT_BEHAVIOUR);
    expect(behaviourFor(s, "octo/slow").agentConnectLatencyMs).toEqual([9000, 9000]);
    expect(behaviourFor(s, "octo/other")).toBe(s.defaults);
    expect(behaviourFor(s, undefined)).toBe(s.defaults);
  });

  it.each([
    [{ timeScale: -1 }],
    [{ seed: 1.5 }],
    [{ defaults: { agentConnectLatencyMs: [2, 1] as const } }],
    [{ defaults: { chunkSizeChars: [0, 3] as const } }],
    [{ defaults: { duplicateRate: 2 } }],
    [{ defaults: untidyBehaviour({ abortSwapRate: -0.1 }) }],
    [{ repositories: { "not-a-repo": {} } }],
  ])("rejects %j with invalid_scenario", (input) => {
    expect(() => defineScenario(input)).toThrow();
    try {
      defineScenario(input);
    } catch (error) {
      expect(isSimulatorError(error, "invalid_scenario")).toBe(true);
    }
  });

  it("resolves scripted replies", () => {
    const ctx = { sessionId: "s", repository: undefined, turn: 2 };
    expect(replyFor("fixed", "x", ctx)).toBe("fixed");
    expect(replyFor({ a: "A", "*": "other" }, "a", ctx)).toBe("A");
    expect(replyFor({ a: "A", "*": "other" }, "b", ctx)).toBe("other");
    expect(replyFor((p, c) => `${p}${c.turn}`, "x", ctx)).toBe("x2");
  });
});

describe("presets", () => {
  it("every preset resolves and is named", () => {
    for (const name of PRESET_NAMES) {
      const s = presetScenario(name, { timeScale: 0.01 });
      expect(s.name).toBe(name);
      expect(s.timeScale).toBe(0.01);
    }
    expect(presetScenario("policy-blocked").defaults.createFault).toEqual({ kind: "policy_blocked" });
  });

  it("an unknown preset throws unknown_preset", () => {
    expect(() => presetScenario("nope")).toThrow(expect.objectContaining({ code: "unknown_preset" }) as Error);
  });
});
