// Regenerates the dashboard screenshots under docs/ (shown in README.md and docs/getting-started.md)
// from a real scene: the bundled simulator, an engine, the dashboard, and Debian's Chromium.
// Run: pnpm --filter @cloudsession/dashboard screenshots [--serve]   (--serve keeps it running)
import { resolve } from "node:path";
import { allCompleted, startScene, until } from "../test/support/scene.js";
import { findChromium, launchChromium } from "../src/testing/index.js";

const docs = resolve(import.meta.dirname, "../../../docs/images");
const scene = await startScene({ timeScale: 0.02, seed: 11 });
const { engine } = scene;

const normal = await engine.start({ repository: { owner: "octo", name: "demo" }, prompts: ["Summarise the README", "List the open TODOs"] });
const slow = await engine.start({ repository: { owner: "demo", name: "slow-agent" }, prompts: ["Explain the build", "Suggest a test for the parser", "Draft release notes"] });
const blocked = await engine.start({ repository: { owner: "demo", name: "blocked-org" }, prompts: ["Fix the flaky test"] });
const live = await engine.start({ repository: { owner: "octo", name: "service" }, prompts: ["Find the slowest endpoint", "Propose a cache for it"] });
const held = await engine.start({ repository: { owner: "octo", name: "held" }, prompts: ["Review the migration"] });
await until(normal, allCompleted(2), "the normal session's answers");
await normal.close("done");
await until(slow, allCompleted(3), "the slow agent's answers");
await slow.close("done");
await blocked.outcome;
await until(live, allCompleted(2), "the live session's answers");
await until(held, (handle) => handle.state === "awaiting-agent", "the held session to wait for its agent");
await engine.settled();

if (process.argv.includes("--serve")) {
  console.log(`dashboard: ${scene.served.url} (Ctrl-C stops)`);
  await new Promise<void>((done) => process.once("SIGINT", () => done()));
} else {
  const executable = findChromium();
  if (executable === undefined) throw new Error("no Chromium: apt-get install -y --no-install-recommends chromium");
  const browser = await launchChromium(executable);
  const shoot = async (hash: string, file: string, width: number, height: number): Promise<void> => {
    const page = await browser.newPage({ viewport: { width, height }, colorScheme: "light" });
    await page.goto(`${scene.served.url}${hash}`);
    await page.waitForSelector(hash === "" ? ".spacer .row" : "svg.diagram g.node.current");
    await page.waitForTimeout(300);
    await page.screenshot({ path: resolve(docs, file) });
    await page.close();
    console.log(`wrote docs/images/${file}`);
  };
  await shoot("", "dashboard-list.png", 1280, 800);
  await shoot(`#/sessions/${live.id}`, "dashboard-session.png", 1280, 800);
  await shoot(`#/sessions/${blocked.id}`, "dashboard-blocked.png", 1280, 800);
  await shoot("", "dashboard-list-narrow.png", 420, 760);
  await browser.close();
}
await scene.close();
