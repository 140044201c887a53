import { describe, expect, test } from "vitest";
import { isCliError } from "../src/cliError.js";
import { normalizeArgv } from "../src/program.js";
import { chooseRuntime } from "../src/runtimeChoice.js";

describe("chooseRuntime", () => {
  test("without credentials the simulator is the default, flagged as a fallback", () => {
    expect(chooseRuntime({}, {})).toEqual({ kind: "simulate", scenario: "normal", fallback: true });
  });
  test("with any credential variable, the real runtime is the default", () => {
    for (const name of ["GH_TOKEN", "GITHUB_TOKEN", "COPILOT_GITHUB_TOKEN"]) expect(chooseRuntime({}, { [name]: "x" })).toEqual({ kind: "live" });
  });
  test("--simulate=<scenario>, --live and --runtime are explicit and exclusive", () => {
    expect(chooseRuntime({ simulate: "slow-agent" }, { GH_TOKEN: "x" })).toEqual({ kind: "simulate", scenario: "slow-agent", fallback: false });
    expect(chooseRuntime({ live: true }, {})).toEqual({ kind: "live" });
    expect(chooseRuntime({ runtime: "127.0.0.1:1" }, {})).toEqual({ kind: "external", url: "127.0.0.1:1" });
    expect(() => chooseRuntime({ live: true, simulate: "normal" }, {})).toThrow(expect.objectContaining({ code: "USAGE" }));
    try {
      chooseRuntime({ live: true, runtime: "x" }, {});
    } catch (error) {
      expect(isCliError(error, "USAGE")).toBe(true);
    }
  });
  test("a bare --simulate cannot swallow the prompt after it", () => {
    expect(normalizeArgv(["run", "--simulate", "hello"])).toEqual(["run", "--simulate=normal", "hello"]);
    expect(normalizeArgv(["run", "--simulate=stall", "hello"])).toEqual(["run", "--simulate=stall", "hello"]);
  });
});
