import { describe, expect, test } from "vitest";
import { runMain, startCli } from "./support/cli.js";

describe("cloudsession sim --drop-rate", () => {
  test("--scenario untidy --drop-rate 0.2: the simulator runs the untidy preset with that drop rate", async () => {
    const sim = startCli(["sim", "--port", "0", "--scenario", "untidy", "--drop-rate", "0.2"]);
    await sim.waitFor(/listening on port \d+/);
    sim.child.kill("SIGINT");
    const result = await sim.exited;
    expect(result.code).toBe(0);
    // The note reads the rate back from the scenario the simulator was started with.
    expect(result.stderr).toMatch(/simulator at \S+ \(scenario untidy, drop rate 0\.2, time scale /);
  }, 60_000);

  test.each(["2", "-0.1", "abc", ""])("--drop-rate %j: a usage error naming the valid range, exit 2", async (value) => {
    const result = await runMain(["sim", "--scenario", "untidy", "--drop-rate", value]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: option '--drop-rate <p>' argument '${value}' is invalid. expected a probability from 0 to 1`);
  });

  test("--drop-rate without --scenario untidy: a usage error that says which scenario takes it, exit 2", async () => {
    const result = await runMain(["sim", "--scenario", "drop", "--drop-rate", "0.1"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: --drop-rate applies to --scenario untidy only (the scenario is drop)");
    expect(result.stderr).toContain("hint: add --scenario untidy, or leave --drop-rate out");
  });
});
