import { defineScenario, type Behaviour, type Scenario, type ScenarioInput } from "./scenario.js";
import { SimulatorError } from "./simulatorError.js";
import { UNTIDY_DEFAULTS, type Untidy } from "./untidy.js";

/** Names accepted by {@link presetScenario} and the CLI's `--scenario`. */
export const PRESET_NAMES = [
  "normal",
  "slow-agent",
  "never-connects",
  "policy-blocked",
  "flaky-create",
  "hanging-create",
  "early-start",
  "duplicates",
  "stall",
  "drop",
  "restart",
  "untidy",
] as const;

export type PresetName = (typeof PRESET_NAMES)[number];

/**
 * Each preset as behaviour overrides, so one can also be applied to a single repository
 * (`repositories: { "octo/slow": PRESET_BEHAVIOURS["slow-agent"] }`).
 */
export const PRESET_BEHAVIOURS: Readonly<Record<PresetName, Partial<Behaviour>>> = {
  normal: {},
  "slow-agent": { agentConnectLatencyMs: [8000, 12000] },
  "never-connects": { agentNeverConnects: true },
  "policy-blocked": { createFault: { kind: "policy_blocked" } },
  "flaky-create": { createFault: { kind: "transient", failures: 2 } },
  "hanging-create": { createFault: { kind: "hang" } },
  "early-start": { earlyStart: true },
  duplicates: { duplicateRate: 0.3, reorderRate: 0.2 },
  stall: { turnFault: { kind: "stall", afterChunks: 2 } },
  drop: { turnFault: { kind: "drop", afterChunks: 2 } },
  restart: { turnFault: { kind: "restart", afterChunks: 2 } },
  untidy: { untidy: UNTIDY_DEFAULTS },
};

/**
 * The `untidy` behaviour with some rates changed, e.g. a higher drop rate or none at all.
 *
 * @example
 * ```ts
 * const sim = await startSimulator({ seed: 5, timeScale: 0.01, defaults: untidyBehaviour({ dropRate: 0.05 }) });
 * ```
 */
export function untidyBehaviour(overrides: Partial<Untidy> = {}): Partial<Behaviour> {
  return { untidy: { ...UNTIDY_DEFAULTS, ...overrides } };
}

/** Narrows a string to a {@link PresetName}. */
export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

/**
 * Builds a scenario from a named preset, with optional extra settings layered on top.
 *
 * @example
 * ```ts
 * const scenario = presetScenario("flaky-create", { timeScale: 0.01, seed: 3 });
 * ```
 * @throws SimulatorError `unknown_preset` when the name is not one of {@link PRESET_NAMES}.
 */
export function presetScenario(name: string, extra: ScenarioInput = {}): Scenario {
  if (!isPresetName(name)) {
    throw new SimulatorError("unknown_preset", `unknown scenario preset "${name}"; known: ${PRESET_NAMES.join(", ")}`);
  }
  return defineScenario({
    ...extra,
    name: extra.name ?? name,
    defaults: { ...PRESET_BEHAVIOURS[name], ...extra.defaults },
  });
}
