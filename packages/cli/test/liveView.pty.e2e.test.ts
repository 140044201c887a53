import { spawnSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { cliEnv, launcher, root } from "./support/cli.js";

// util-linux `script` gives the child a pseudo-terminal without a native dependency.
const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;

function runInPty(args: readonly string[], extraEnv: Record<string, string>): { code: number | null; output: string } {
  const quoted = [process.execPath, launcher, ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(" ");
  // A pty made by `script` has no size until told; real terminals always have one.
  const result = spawnSync("script", ["-qfec", `stty cols 120 rows 40; ${quoted}`, "/dev/null"], {
    cwd: root,
    env: cliEnv({ TERM: "xterm", CLOUDSESSION_SIM_TIME_SCALE: "0.2", ...extraEnv }),
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: result.status, output: result.stdout };
}

describe.skipIf(!hasScript)("the live view on a terminal", () => {
  test("spinner, elapsed time and colours while waiting; the answer streams; exit code kept", () => {
    const { code, output } = runInPty(["run", "--store", "memory:", "--repo", "demo/slow-agent", "hello"], { CLOUDSESSION_SIM_TIME_SCALE: "0.1" });
    expect(code).toBe(0);
    // nanospinner hides the cursor and draws braille frames in place.
    expect(output).toContain("\u001b[?25l");
    // eslint-disable-next-line no-control-regex -- the frame is coloured
    expect(output).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏](?:\u001b\[39m)? waiting for the agent…/);
    // Elapsed time, dimmed, and the prompt typed before the agent was there.
    // eslint-disable-next-line no-control-regex -- the elapsed time is dimmed
    expect(output).toMatch(/waiting for the agent… (?:\u001b\[2m)?\d+\.\ds(?:\u001b\[22m)?(?:\u001b\[2m)? · 1 prompt queued/);
    // picocolors: green tick for a reached phase.
    expect(output).toContain("\u001b[32m✔\u001b[39m");
    expect(output).toContain("Simulated reply to: hello");
  });

  test("NO_COLOR: still a live view, but no colour codes", () => {
    const { code, output } = runInPty(["run", "--store", "memory:", "--repo", "octo/demo", "hello"], { NO_COLOR: "1" });
    expect(code).toBe(0);
    expect(output).toContain("Simulated reply to: hello");
    // eslint-disable-next-line no-control-regex -- SGR colour sequences are what must be absent
    expect(output).not.toMatch(/\u001b\[(3\d|9\d|1|2|4)m/);
  });
});
