import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { PRESET_NAMES, presetScenario, untidyBehaviour } from "./presets.js";
import { startSimulator, type Simulator } from "./server.js";
import { SimulatorError } from "./simulatorError.js";

const USAGE = `usage: sim [--port N] [--scenario ${PRESET_NAMES.join("|")}] [--seed N] [--time-scale X] [--token T] [--drop-rate P (untidy only)]`;

const numberArg = (name: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new SimulatorError("bad_argument", `--${name} must be a number, got ${raw}\n${USAGE}`);
  return value;
};

/**
 * Runs the simulator from command-line arguments and prints `listening on port N` on stdout (the
 * line the SDK's `RuntimeConnection.forTcp` waits for). Returns the running simulator; the caller
 * decides when to close it.
 *
 * @example
 * ```ts
 * const sim = await main(["--port", "0", "--scenario", "slow-agent", "--time-scale", "0.1"]);
 * await sim.close();
 * ```
 * @throws SimulatorError `bad_argument` or `unknown_preset` for bad arguments.
 */
export async function main(argv: readonly string[], print: (line: string) => void = (line) => {
  process.stdout.write(`${line}\n`);
}): Promise<Simulator> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: "string" },
        scenario: { type: "string" },
        seed: { type: "string" },
        "time-scale": { type: "string" },
        token: { type: "string" },
        "drop-rate": { type: "string" },
        // Passed by the SDK when it spawns a runtime (forTcp); meaningless here.
        headless: { type: "boolean" },
        "no-auto-update": { type: "boolean" },
      },
      strict: true,
    }));
  } catch (error) {
    throw new SimulatorError("bad_argument", `${error instanceof Error ? error.message : String(error)}\n${USAGE}`, { cause: error });
  }
  const seed = numberArg("seed", values.seed);
  const timeScale = numberArg("time-scale", values["time-scale"]);
  const dropRate = numberArg("drop-rate", values["drop-rate"]);
  const name = values.scenario ?? "normal";
  if (dropRate !== undefined && name !== "untidy") {
    throw new SimulatorError("bad_argument", `--drop-rate needs --scenario untidy\n${USAGE}`);
  }
  const scenario = presetScenario(name, {
    ...(seed === undefined ? {} : { seed }),
    ...(timeScale === undefined ? {} : { timeScale }),
    ...(dropRate === undefined ? {} : { defaults: untidyBehaviour({ dropRate }) }),
  });
  const token = values.token ?? process.env["COPILOT_CONNECTION_TOKEN"];
  const sim = await startSimulator(scenario, {
    port: numberArg("port", values.port) ?? 0,
    ...(token === undefined ? {} : { connectionToken: token }),
  });
  print(`listening on port ${sim.port}`);
  return sim;
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main(process.argv.slice(2)).then(
    (sim) => {
      const stop = (): void => {
        void sim.close().then(() => process.exit(0));
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}
