import type { SessionHandle } from "@cloudsession/engine";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { CHROMIUM_MISSING, findChromium, launchChromium, watchForeignRequests, type ForeignRequests } from "../src/testing/index.js";
import { allCompleted, startScene, until, type Scene } from "./support/scene.js";

const chromium = findChromium();
if (chromium === undefined) console.warn(CHROMIUM_MISSING);

let scene: Scene;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let foreign: ForeignRequests;
let ownRequests: number;
let pageErrors: string[];
const sessions: { normal?: SessionHandle; slow?: SessionHandle; blocked?: SessionHandle } = {};

// In-page code is written as strings: the test programs are checked without the DOM's types.
const focusedSession = `document.activeElement?.closest("[data-session]")?.getAttribute("data-session") ?? null`;
const attributes = async (selector: string, name: string): Promise<(string | null)[]> => Promise.all((await page.locator(selector).all()).map((element) => element.getAttribute(name)));
const row = (id: string, state?: string) => `.spacer [data-session="${id}"]${state === undefined ? "" : `[data-state="${state}"]`}`;

describe.skipIf(chromium === undefined)(`the dashboard in a real Chromium${chromium === undefined ? ` (${CHROMIUM_MISSING})` : ""}`, () => {
  beforeAll(async () => {
    scene = await startScene();
    browser = await launchChromium(chromium!);
    // The demo's three sessions: a normal one, a slow agent with queued prompts, a blocked organisation.
    const { engine } = scene;
    sessions.normal = await engine.start({ repository: { owner: "octo", name: "demo" }, prompts: ["Summarise the README", "List the open TODOs"] });
    sessions.slow = await engine.start({ repository: { owner: "demo", name: "slow-agent" }, prompts: ["Explain the build", "Draft release notes"] });
    sessions.blocked = await engine.start({ repository: { owner: "demo", name: "blocked-org" }, prompts: ["Fix the flaky test"] });
    await until(sessions.normal, allCompleted(2), "the normal session's answers");
    await sessions.normal.close("done");
    await until(sessions.slow, allCompleted(2), "the slow agent's answers");
    await sessions.slow.close("done");
    await sessions.blocked.outcome;
    await engine.settled();
  }, 120_000);

  afterAll(async () => {
    await browser.close();
    await scene.close();
  });

  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    foreign = await watchForeignRequests(context, new URL(scene.served.url).origin);
    ownRequests = 0;
    pageErrors = [];
    context.on("request", (request) => {
      if (request.url().startsWith(scene.served.url)) ownRequests += 1;
    });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
  });

  afterEach(async () => {
    await context.close();
    // Every test: the page talked to its own server, and to nobody else.
    expect(ownRequests).toBeGreaterThan(0);
    expect(foreign.urls).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  test("the list shows the demo's three sessions with their states, colour-coded", async () => {
    await page.goto(scene.served.url);
    for (const [id, state] of [[sessions.normal!.id, "closed"], [sessions.slow!.id, "closed"], [sessions.blocked!.id, "blocked"]] as const) {
      await page.waitForSelector(row(id, state));
      expect(await page.textContent(`${row(id)} .badge`)).toBe(state);
    }
    expect(await page.textContent(`${row(sessions.slow!.id)} .session-link`)).toBe("demo/slow-agent");
    const colour = (id: string) => page.evaluate<string>(`getComputedStyle(document.querySelector('${row(id)} .badge')).backgroundColor`);
    expect(await colour(sessions.blocked!.id)).not.toBe(await colour(sessions.normal!.id));
    expect(await page.getAttribute(`${row(sessions.normal!.id)} .external`, "href")).toMatch(/^https:\/\/github\.com\/copilot\/tasks\//);
  }, 60_000);

  test("a live session's state changes on screen as the simulator advances it, without a reload", async () => {
    await page.goto(scene.served.url);
    await page.waitForSelector(row(sessions.normal!.id));
    await page.evaluate("window.__sameDocument = true");
    const held = await scene.engine.start({ repository: { owner: "octo", name: "held" }, prompts: ["Review the migration"] });
    await page.waitForSelector(row(held.id, "awaiting-agent"));
    expect(await page.textContent(`${row(held.id)} .prompt-counts`)).toContain("◷ 1");
    // The list follows the store; now the session page, live as well.
    await page.click(`${row(held.id)} .session-link`);
    await page.waitForSelector('.session-head .badge[data-state="awaiting-agent"]');
    await page.waitForSelector('svg.diagram g.node.current[data-state="awaiting-agent"]');
    scene.sim.connectAgent(held.sessionId!);
    await page.waitForSelector('.session-head .badge[data-state="ready"]');
    await until(held, allCompleted(1), "the queued prompt's answer");
    await page.waitForSelector('.prompt.status-completed .reply');
    await page.goBack();
    await page.waitForSelector(row(held.id, "ready"));
    expect(await page.textContent(`${row(held.id)} .prompt-counts`)).toContain("✓ 1");
    expect(await page.evaluate("window.__sameDocument")).toBe(true);
    await held.close();
  }, 60_000);

  test("the diagram highlights the current state and the path taken; the replay steps through the log", async () => {
    await page.goto(`${scene.served.url}#/sessions/${sessions.normal!.id}`);
    await page.waitForSelector('svg.diagram g.node.current[data-state="closed"]');
    expect(await attributes("svg.diagram g.node.current", "data-state")).toEqual(["closed"]);
    const taken = (await attributes("svg.diagram g.edge.taken", "data-edge")).sort();
    expect(taken).toEqual(["awaiting-agent->ready", "ready->closed", "ready->streaming", "reserving.attempting->awaiting-agent", "streaming->ready"]);
    expect(await page.getAttribute("svg.diagram", "aria-label")).toMatch(/Current state: closed\. Path taken: reserving\.attempting → awaiting-agent → ready → streaming → ready/);
    // Back to the start, then one step: the diagram and the timeline follow.
    await page.click("text=First");
    await page.waitForSelector('svg.diagram g.node.current[data-state="reserving.attempting"]');
    expect(await page.locator("svg.diagram g.edge.taken").count()).toBe(0);
    expect(await page.getAttribute(".timeline tr.current", "data-version")).toBe("1");
    await page.keyboard.press("Tab");
    await page.click("text=Next ▶");
    expect(await page.textContent(".replay-caption")).toMatch(/^Step 2 of \d+/);
    await page.click("text=Latest");
    await page.waitForSelector('svg.diagram g.node.current[data-state="closed"]');
  }, 60_000);

  test("a prompt sent from the page reaches the simulator once, and its answer appears", async () => {
    const session = await scene.engine.start({ repository: { owner: "octo", name: "demo" } });
    await until(session, (handle) => handle.state === "ready", "ready");
    await page.goto(`${scene.served.url}#/sessions/${session.id}`);
    await page.waitForSelector("section.actions:not([hidden])");
    await page.fill("#prompt-text", "Which tests are flaky?");
    await page.click("text=Send prompt");
    await page.waitForSelector(".action-status:has-text('queued')");
    await until(session, allCompleted(1), "the answer");
    await page.waitForSelector(".prompt.status-completed .reply:has-text('Simulated reply to: Which tests are flaky?')");
    expect(scene.sim.stats.timesReceived("Which tests are flaky?", session.sessionId ?? "")).toBe(1);
    expect(scene.sim.stats.timesReceived("Which tests are flaky?")).toBe(1);
    // Closing from the page (it asks once more first) ends it; the actions go away.
    await page.click("text=Close session");
    await page.click("text=Confirm: close the session");
    await page.waitForSelector('.session-head .badge[data-state="closed"]');
    await page.waitForSelector("section.actions[hidden]", { state: "attached" });
  }, 60_000);

  test("a blocked session shows its reason, in the list and on its page", async () => {
    await page.goto(scene.served.url);
    await page.waitForSelector(row(sessions.blocked!.id, "blocked"));
    expect(await page.textContent(`${row(sessions.blocked!.id)} .reason`)).toBe("policy_blocked");
    await page.click(`${row(sessions.blocked!.id)} .session-link`);
    await page.waitForSelector(".outcome h2");
    expect(await page.textContent(".outcome h2")).toBe("blocked while reserving");
    expect(await page.textContent(".outcome .failure-reason")).toBe("policy_blocked");
    expect(await page.textContent(".outcome")).toMatch(/not allowed .* by organization policy/);
    expect(await page.$("section.actions:not([hidden])")).toBeNull();
  }, 60_000);

  test("keyboard: filters, row to row with the arrows, Enter opens a session", async () => {
    await page.goto(scene.served.url);
    await page.waitForSelector(row(sessions.blocked!.id));
    await page.focus('button[data-filter="closed"]');
    await page.keyboard.press("Enter");
    await page.waitForFunction(`[...document.querySelectorAll(".spacer .row")].every((element) => element.getAttribute("data-state") === "closed")`);
    await page.focus(".spacer .row .session-link");
    const first = await page.evaluate<string | null>(focusedSession);
    await page.keyboard.press("ArrowDown");
    const second = await page.evaluate<string | null>(focusedSession);
    expect(second).toBeTruthy();
    expect(second).not.toBe(first);
    await page.keyboard.press("Enter");
    await page.waitForSelector(".session-head");
    expect(await page.evaluate("location.hash")).toBe(`#/sessions/${second!}`);
  }, 60_000);

  test("readable on a narrow window: nothing runs off the side", async () => {
    await page.setViewportSize({ width: 400, height: 760 });
    await page.goto(scene.served.url);
    await page.waitForSelector(row(sessions.blocked!.id));
    const overflow = () => page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.goto(`${scene.served.url}#/sessions/${sessions.normal!.id}`);
    await page.waitForSelector("svg.diagram g.node.current");
    expect(await overflow()).toBeLessThanOrEqual(0);
  }, 60_000);
});
