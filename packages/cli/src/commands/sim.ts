import { PRESET_NAMES, isPresetName, presetScenario, startSimulator, untidyBehaviour } from "@cloudsession/simulator";
import { randomInt } from "node:crypto";
import { CliError } from "../cliError.js";
import type { CommandContext } from "../commandContext.js";
import { ExitCode } from "../exitCodes.js";
import { listeningOn } from "../ports.js";
import { demoRepositories } from "../simulation.js";

export interface SimFlags {
  readonly port?: number;
  readonly scenario?: string;
  readonly seed?: number;
  readonly timeScale?: number;
  readonly token?: string;
  /** Only with the `untidy` scenario: its per-event socket drop rate, 0 to 1. */
  readonly dropRate?: number;
}

/**
 * `cloudsession sim`: the simulator on its own, on 127.0.0.1, until Ctrl-C. Point `run`/`resume`
 * at it with `--runtime 127.0.0.1:PORT` (sessions then outlive a CLI process), or any SDK client.
 * It prints `listening on port N`, the line the SDK waits for when it spawns a runtime.
 */
export async function simCommand(flags: SimFlags, ctx: CommandContext): Promise<ExitCode> {
  const scenarioName = flags.scenario ?? "normal";
  if (!isPresetName(scenarioName)) {
    throw new CliError("UNKNOWN_SCENARIO", `unknown simulator scenario "${scenarioName}"`, { hint: `use one of: ${PRESET_NAMES.join(", ")}` });
  }
  if (flags.dropRate !== undefined && scenarioName !== "untidy") {
    throw new CliError("USAGE", `--drop-rate applies to --scenario untidy only (the scenario is ${scenarioName})`, { hint: "add --scenario untidy, or leave --drop-rate out" });
  }
  const scenario = presetScenario(scenarioName, {
    repositories: demoRepositories,
    // Random unless given: a long-lived store must not see the same session ids twice.
    seed: flags.seed ?? randomInt(1, 2 ** 31 - 1),
    ...(flags.timeScale === undefined ? {} : { timeScale: flags.timeScale }),
    ...(flags.dropRate === undefined ? {} : { defaults: untidyBehaviour({ dropRate: flags.dropRate }) }),
  });
  const dropRate = scenario.defaults.untidy === null ? "" : `, drop rate ${scenario.defaults.untidy.dropRate}`;
  const token = flags.token ?? ctx.env["COPILOT_CONNECTION_TOKEN"];
  const port = flags.port ?? 0;
  const sim = await listeningOn(port, "--port", () => startSimulator(scenario, { port, ...(token === undefined ? {} : { connectionToken: token }) }));
  ctx.terminal.line(`listening on port ${sim.port}`);
  ctx.terminal.note(`simulator at ${sim.url} (scenario ${scenario.name}${dropRate}, time scale ${scenario.timeScale}); Ctrl-C stops it`);
  ctx.terminal.note(`run sessions on it with: ${ctx.command} run --runtime ${sim.url} --repo octo/demo "…" (resume and close take the same --runtime)`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await sim.close();
  return ExitCode.success;
}
