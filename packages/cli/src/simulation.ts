import { PRESET_NAMES, isPresetName, presetScenario, startSimulator, type Behaviour, type Simulator } from "@cloudsession/simulator";
import { randomInt } from "node:crypto";
import { CliError } from "./cliError.js";

/**
 * Repositories that behave differently on the bundled simulator, whatever the scenario: the demo
 * uses them, and anyone can try them with `run --simulate --repo demo/slow-agent`.
 */
export const demoRepositories: Readonly<Record<string, Partial<Behaviour>>> = {
  // Long enough (scaled) that prompts are visibly queued before the agent is there.
  "demo/slow-agent": { agentConnectLatencyMs: [6000, 8000] },
  "demo/blocked-org": { createFault: { kind: "policy_blocked" } },
  "demo/never-connects": { agentNeverConnects: true },
  "demo/flaky": { createFault: { kind: "transient", failures: 2 } },
};

/**
 * Real ms per simulated ms. `CLOUDSESSION_SIM_TIME_SCALE` overrides the caller's default: tests use
 * a tiny one, so the whole two-phase start takes milliseconds.
 */
export function simulatorTimeScale(env: NodeJS.ProcessEnv, fallback: number): number {
  const raw = env["CLOUDSESSION_SIM_TIME_SCALE"];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new CliError("USAGE", `CLOUDSESSION_SIM_TIME_SCALE must be a number >= 0, got ${raw}`);
  return value;
}

/**
 * Starts the bundled simulator in this process, on 127.0.0.1 and a free port, with a preset
 * scenario plus {@link demoRepositories}.
 */
export async function startBundledSimulator(scenario: string, timeScale: number): Promise<Simulator> {
  if (!isPresetName(scenario)) {
    throw new CliError("UNKNOWN_SCENARIO", `unknown simulator scenario "${scenario}"`, { hint: `use one of: ${PRESET_NAMES.join(", ")}` });
  }
  // A fresh seed per run: the store outlives the run, and two runs must not mint the same session ids.
  const seed = randomInt(1, 2 ** 31 - 1);
  return startSimulator(presetScenario(scenario, { timeScale, seed, repositories: demoRepositories }), { port: 0 });
}
