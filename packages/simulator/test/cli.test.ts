import { describe, expect, it } from "vitest";
import { isSimulatorError, main } from "../src/index.js";

describe("cli main", () => {
  it("prints `listening on port N` and serves the preset", async () => {
    const lines: string[] = [];
    const sim = await main(["--port", "0", "--scenario", "slow-agent", "--seed", "9", "--time-scale", "0.01"], (l) => lines.push(l));
    try {
      expect(lines).toEqual([`listening on port ${sim.port}`]);
      expect(sim.scenario).toMatchObject({ name: "slow-agent", seed: 9, timeScale: 0.01 });
    } finally {
      await sim.close();
    }
  });

  it("--drop-rate tunes the untidy preset's drops", async () => {
    const sim = await main(["--port", "0", "--scenario", "untidy", "--drop-rate", "0.2"], () => undefined);
    try {
      expect(sim.scenario.defaults.untidy).toMatchObject({ dropRate: 0.2, realNoise: true });
    } finally {
      await sim.close();
    }
  });

  it("ignores the flags the SDK passes when it spawns a runtime", async () => {
    const sim = await main(["--headless", "--no-auto-update", "--port", "0"], () => undefined);
    await sim.close();
  });

  it.each([[["--scenario", "nope"], "unknown_preset"], [["--port", "x"], "bad_argument"], [["--drop-rate", "0.1"], "bad_argument"], [["--scenario", "untidy", "--drop-rate", "2"], "invalid_scenario"], [["--bogus"], "bad_argument"]] as const)(
    "%j fails with %s",
    async (argv, code) => {
      const error: unknown = await main(argv, () => undefined).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isSimulatorError(error, code)).toBe(true);
    },
  );
});
