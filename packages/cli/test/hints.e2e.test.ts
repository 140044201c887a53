import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseNdjson, runCli, runMain, tempDir } from "./support/cli.js";

/** A port something listens on, held for the file's tests. */
let busy: Server;
let busyPort = 0;
/** A port nothing listens on (one just freed). */
let closedPort = 0;

async function listen(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return server;
}
const portOf = (server: Server): number => {
  const address = server.address();
  return typeof address === "object" && address !== null ? address.port : 0;
};

beforeAll(async () => {
  busy = await listen();
  busyPort = portOf(busy);
  const freed = await listen();
  closedPort = portOf(freed);
  await new Promise((resolve) => freed.close(resolve));
});
afterAll(() => new Promise((resolve) => busy.close(resolve)));

/** Whether the runtime bundled with @github/copilot-sdk is installed (the SDK's platform package). */
function bundledRuntimeInstalled(): boolean {
  const require = createRequire(import.meta.url);
  try {
    const sdk = require.resolve("@github/copilot-sdk");
    const name = `@github/copilot-sdk-${process.platform}-${process.arch}`;
    return (createRequire(sdk).resolve.paths(name) ?? []).some((base) => existsSync(join(base, ...name.split("/"), "prebuilds", `${process.platform}-${process.arch}`, "copilot-runtime")));
  } catch {
    return false;
  }
}

const noBug = /looks like a bug|Unhandled 'error'|ERR_SOCKET|at .*\.ts:\d+/;

describe("each hint names the real cause and the next step; usage errors exit 2", () => {
  test.skipIf(!bundledRuntimeInstalled())(
    "run --live without a token: the runtime's refusal is put down to the missing credentials, exit 5",
    async () => {
      const home = tempDir("cloudsession-home-");
      try {
        // The real runtime bundled with the SDK, offline: it answers a cloud create with "Unhandled method".
        const result = await runCli(["run", "--live", "--store", "memory:", "--repo", "octo/demo", "hello"], { HOME: home.path });
        expect(result.code).toBe(5);
        expect(result.stdout).toContain("Unhandled method session.create");
        expect(result.stdout).toMatch(/hint: the Copilot runtime offers no cloud sessions without GitHub credentials.*GH_TOKEN, GITHUB_TOKEN, COPILOT_GITHUB_TOKEN are unset.*drop --live/);
        expect(result.stdout).not.toMatch(/check the repository name/);
      } finally {
        home.remove();
      }
    },
    60_000,
  );

  test("sim --port <taken>: the port and who to ask, exit 2, no stack", async () => {
    const result = await runCli(["sim", "--port", String(busyPort)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^error: port ${busyPort} on 127\\.0\\.0\\.1 \\(--port\\) is already in use by another process\\nhint: pick another port, or leave the port out`));
    expect(result.stderr).not.toMatch(noBug);
  });

  test("--runtime at a closed port: the refused connection is named at once, with how to start a runtime, exit 1", async () => {
    const result = await runCli(["run", "--store", "memory:", "--runtime", `127.0.0.1:${closedPort}`, "--reservation-timeout", "5", "--repo", "octo/demo", "hello"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: cannot reach the Copilot runtime at 127.0.0.1:${closedPort}: connection refused (ECONNREFUSED)`);
    expect(result.stderr).toContain(`hint: start one with \`./cloudsession sim --port ${closedPort}\``);
    expect(result.stderr).not.toMatch(/deadline passed|looks like a bug/);
  });

  test("--runtime that is not host:port is a usage error (exit 2), and --json gets an error record", async () => {
    const result = await runMain(["run", "--json", "--store", "memory:", "--runtime", "nowhere", "--repo", "octo/demo", "hello"]);
    expect(result.code).toBe(2);
    expect(parseNdjson(result.stdout)).toEqual([expect.objectContaining({ type: "error", code: "USAGE", message: '--runtime expects host:port, got "nowhere"', exitCode: 2 })]);
  });

  test.each(["abc", "-1", "70000"])("--inspect=%s: a usage error naming the valid range, exit 2", async (port) => {
    const result = await runMain(["run", "--store", "memory:", `--inspect=${port}`, "--repo", "octo/demo", "hello"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: option '--inspect [port]' argument '${port}' is invalid. expected a port: an integer from 0 (any free port) to 65535`);
    expect(result.stderr).not.toMatch(noBug);
  });

  test("--inspect=<taken port>: the port is named before anything starts, exit 2, no crash", async () => {
    const result = await runCli(["replay", "any-id", "--store", "memory:", `--inspect=${busyPort}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^error: port ${busyPort} on 127\\.0\\.0\\.1 \\(--inspect\\) is already in use`));
    expect(result.stderr).not.toMatch(noBug);
  });

  test("usage errors from the argument parser exit 2, with an error record under --json", async () => {
    const result = await runMain(["run", "--json", "--no-such-flag"]);
    expect(result.code).toBe(2);
    expect(parseNdjson(result.stdout)).toEqual([{ type: "error", code: "USAGE", message: "unknown option '--no-such-flag'", exitCode: 2 }]);
  });
});
