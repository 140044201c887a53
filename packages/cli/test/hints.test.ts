import { EngineError } from "@cloudsession/engine";
import type { SessionOutcome } from "@cloudsession/machine";
import { StoreError } from "@cloudsession/store";
import { describe, expect, test } from "vitest";
import { isCliError } from "../src/cliError.js";
import { damageOf } from "../src/damage.js";
import { ExitCode } from "../src/exitCodes.js";
import { hintForOutcome, type HintContext } from "../src/outcomeHint.js";
import { colorWanted } from "../src/output/terminal.js";
import { parsePort } from "../src/ports.js";
import { toCliError } from "../src/reportError.js";
import { parseRuntimeAddress } from "../src/runtimeProbe.js";

const failed = (phase: "reserving" | "awaiting-agent", reason: "timeout" | "create-failed" | "retries-exhausted", message: string): SessionOutcome => ({
  state: "failed",
  failure: { phase, reason, message },
  closeReason: null,
  prompts: [],
});
const context = (partial: Partial<HintContext> = {}): HintContext => ({ session: "s-1", runtime: { kind: "live" }, hasCredentials: false, command: "./cloudsession", ...partial });

describe("hints name the real cause and the next step", () => {
  test("session.create unhandled by the runtime, no credentials: names the credential variables and --live, not the repository", () => {
    const hint = hintForOutcome(failed("reserving", "create-failed", "Unhandled method session.create"), context());
    expect(hint).toMatch(/no cloud sessions without GitHub credentials/);
    expect(hint).toContain("GH_TOKEN, GITHUB_TOKEN, COPILOT_GITHUB_TOKEN are unset");
    expect(hint).toContain("drop --live");
    expect(hint).not.toMatch(/repository name/);
  });

  test("session.create unhandled although credentials are set: the token's plan and the runtime version", () => {
    const hint = hintForOutcome(failed("reserving", "create-failed", "Unhandled method session.create"), context({ hasCredentials: true }));
    expect(hint).toMatch(/offers no cloud sessions/);
    expect(hint).toMatch(/Copilot plan/);
  });

  test("another create refusal still points at the repository", () => {
    expect(hintForOutcome(failed("reserving", "create-failed", "repository not found"), context())).toMatch(/check the repository name/);
  });

  test("a reservation deadline names the runtime and the last failed try", () => {
    const hint = hintForOutcome(failed("reserving", "timeout", "deadline passed"), context({ runtime: { kind: "external", url: "127.0.0.1:9" }, lastReservationError: "connect ECONNREFUSED 127.0.0.1:9" }));
    expect(hint).toContain("the runtime at 127.0.0.1:9");
    expect(hint).toContain("The last try failed with: connect ECONNREFUSED 127.0.0.1:9.");
  });

  test("prompts that did not complete: the show command for this session, spelled as the user calls the CLI", () => {
    const outcome: SessionOutcome = { state: "closed", failure: null, closeReason: "x", prompts: [{ id: "p", text: "t", status: "undelivered", submittedAt: 0 }] };
    expect(hintForOutcome(outcome, context())).toBe("1 prompt(s) did not complete; `./cloudsession show s-1` lists why.");
  });
});

describe("usage errors exit 2", () => {
  test("a port is an integer from 0 to 65535", () => {
    expect(parsePort("0")).toBe(0);
    expect(parsePort("65535")).toBe(65_535);
    for (const bad of ["abc", "-1", "70000", "1.5", ""]) expect(() => parsePort(bad), bad).toThrow(/expected a port/);
  });

  test("--runtime takes the SDK's forms; anything else is USAGE with an example", () => {
    expect(parseRuntimeAddress("127.0.0.1:4321", "x")).toEqual({ host: "127.0.0.1", port: 4321 });
    expect(parseRuntimeAddress("http://localhost:4321", "x")).toEqual({ host: "localhost", port: 4321 });
    expect(parseRuntimeAddress("[::1]:4321", "x")).toEqual({ host: "::1", port: 4321 });
    expect(parseRuntimeAddress("4321", "x")).toEqual({ host: "localhost", port: 4321 });
    for (const bad of ["foo", "host:0", "host:70000", "a:b:c"]) {
      let error: unknown;
      try {
        parseRuntimeAddress(bad, "./cloudsession");
      } catch (caught) {
        error = caught;
      }
      expect(isCliError(error, "USAGE") && error.exitCode === ExitCode.usage, bad).toBe(true);
    }
  });
});

describe("damaged logs: three errors mean damaged, each exits 6", () => {
  test("StoreError CORRUPTED_EVENT and CORRUPTED_LOG, EngineError CORRUPTED_LOG", () => {
    const errors = [new StoreError("CORRUPTED_EVENT", "bad json at 3"), new StoreError("CORRUPTED_LOG", "versions 5 and 7 missing"), new EngineError("CORRUPTED_LOG", "session s: a second session.requested")];
    expect(errors.map((error) => damageOf(error)?.code)).toEqual(["CORRUPTED_EVENT", "CORRUPTED_LOG", "CORRUPTED_LOG"]);
    for (const error of errors) {
      const cli = toCliError(error, "./cloudsession");
      expect(cli?.code).toBe("DAMAGED_LOG");
      expect(cli?.exitCode).toBe(ExitCode.damaged);
      expect(cli?.message).toContain(error.message);
    }
    expect(damageOf(new StoreError("VERSION_CONFLICT", "x"))).toBeUndefined();
  });
});

describe("colour: NO_COLOR and FORCE_COLOR are respected; none into a pipe by default", () => {
  test.each([
    [true, {}, true],
    [false, {}, false],
    [true, { NO_COLOR: "1" }, false],
    [true, { NO_COLOR: "" }, true],
    [true, { TERM: "dumb" }, false],
    [false, { FORCE_COLOR: "1" }, true],
    [true, { FORCE_COLOR: "0" }, false],
    [true, { FORCE_COLOR: "false" }, false],
    [false, { FORCE_COLOR: "1", NO_COLOR: "1" }, true],
  ] as const)("terminal %s, env %j: colour %s", (isTerminal, env, expected) => {
    expect(colorWanted(isTerminal, env)).toBe(expected);
  });
});
