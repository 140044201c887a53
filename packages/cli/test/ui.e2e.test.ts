import { spawn, type ChildProcess } from "node:child_process";
import { execFile } from "node:child_process";
import { createInterface } from "node:readline";
import { CHROMIUM_MISSING, findChromium, launchChromium, watchForeignRequests } from "@cloudsession/dashboard/testing";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cliEnv, launcher, root, tempDir } from "./support/cli.js";

// The demo's three sessions in an embedded store, then `cloudsession ui` on that store, driven over
// HTTP and (when a Chromium is installed) in a real browser.
const chromium = findChromium();
if (chromium === undefined) console.warn(CHROMIUM_MISSING);

const store = tempDir("cloudsession-ui-");
let ui: ChildProcess;
let url: string;

/** `cloudsession …` from the sources, with a long limit: the embedded store boots slowly on a busy machine. */
function cli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [launcher, ...args], { cwd: root, env: cliEnv(), timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  const demo = await cli(["start", "--store", store.path]);
  expect(demo.code, demo.stderr).toBe(0);
  ui = spawn(process.execPath, [launcher, "ui", "--json", "--store", store.path, "--port", "0"], { cwd: root, env: cliEnv(), stdio: ["ignore", "pipe", "pipe"] });
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: ui.stdout! });
    lines.once("line", resolve);
    ui.once("exit", (code) => reject(new Error(`ui exited with ${String(code)}`)));
  });
  const record = JSON.parse(first) as { type: string; url: string };
  expect(record.type).toBe("dashboard");
  url = record.url;
}, 300_000);

afterAll(async () => {
  if (ui.exitCode === null) {
    const exited = new Promise((resolve) => ui.once("exit", resolve));
    ui.kill("SIGINT");
    await exited;
  }
  store.remove();
});

const demoStates = [
  ["octo/demo", "closed"],
  ["demo/slow-agent", "closed"],
  ["demo/blocked-org", "blocked"],
];

describe("cloudsession ui", () => {
  test("serves on 127.0.0.1 the sessions of the store it is given: the demo's three, with their states", async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const response = await fetch(`${url}api/sessions`);
    const { sessions } = (await response.json()) as { sessions: { repository: string; state: string; running: boolean }[] };
    expect(sessions.map((session) => [session.repository, session.state]).sort()).toEqual([...demoStates].sort());
    expect(sessions.every((session) => !session.running)).toBe(true);
  });

  test.skipIf(chromium === undefined)(`in a real Chromium, the list shows them${chromium === undefined ? ` (${CHROMIUM_MISSING})` : ""}`, async () => {
    const browser = await launchChromium(chromium!);
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const foreign = await watchForeignRequests(context, new URL(url).origin);
      const page = await context.newPage();
      await page.goto(url);
      for (const [repository, state] of demoStates) {
        await page.waitForSelector(`.spacer .row[data-state="${state!}"] .session-link:text-is("${repository!}")`);
      }
      expect(await page.locator(".spacer .row").count()).toBe(3);
      expect(foreign.urls).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);

  test("stops on Ctrl-C with exit code 0", async () => {
    const exited = new Promise<number | null>((resolve) => ui.once("exit", resolve));
    ui.kill("SIGINT");
    expect(await exited).toBe(0);
  }, 60_000);
});
