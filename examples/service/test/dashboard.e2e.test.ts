import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { createInMemoryStore } from "@cloudsession/store";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startService, type RunningService } from "../src/index.js";
import { eventually, request } from "./support/http.js";

let sim: Simulator;
let service: RunningService;

beforeAll(async () => {
  sim = await startSimulator({ seed: 5, timeScale: 0.01 });
  service = await startService({ port: 0, store: createInMemoryStore(), engine: { runtimeUrl: sim.url, heartbeatMs: 0 } });
});

afterAll(async () => {
  await service.close();
  await sim.close();
});

type Summary = { id: string; state: string; running: boolean; prompts: { delivered: number } };

describe("the dashboard mounted at /dashboard/", () => {
  test("the page and its API answer below the mount point; /dashboard redirects to it", async () => {
    const bare = await fetch(`${service.url}/dashboard`, { redirect: "manual" });
    expect(bare.status).toBe(308);
    expect(bare.headers.get("location")).toBe("/dashboard/");
    const page = await fetch(`${service.url}/dashboard/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    expect(await page.text()).toContain('src="assets/app.js"');
    expect((await fetch(`${service.url}/dashboard/assets/app.js`)).status).toBe(200);
  });

  test("lists the service's sessions, and a prompt sent through it reaches the worker once", async () => {
    const started = await request("POST", `${service.url}/sessions`, { repository: { owner: "octo", name: "demo" }, prompts: ["Summarise the README"] });
    const id = started.body.id as string;
    const listed = await eventually("the session listed and ready", async () => {
      const { sessions } = (await (await fetch(`${service.url}/dashboard/api/sessions`)).json()) as { sessions: Summary[] };
      const session = sessions.find((each) => each.id === id);
      return session?.state === "ready" && session.prompts.delivered === 1 ? session : undefined;
    });
    expect(listed.running).toBe(true);
    const sent = await fetch(`${service.url}/dashboard/api/sessions/${id}/prompts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "And the TODOs" }) });
    expect(sent.status).toBe(202);
    const sessionId = (await request("GET", `${service.url}/sessions/${id}`)).body.sessionId as string;
    await eventually("the prompt delivered", () => Promise.resolve(sim.stats.timesReceived("And the TODOs", sessionId) === 1 ? true : undefined));
    const closed = await fetch(`${service.url}/dashboard/api/sessions/${id}/close`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(await closed.json()).toMatchObject({ state: "closed" });
    expect(sim.stats.timesReceived("And the TODOs", sessionId)).toBe(1);
  });

  test("the service's other routes keep their JSON bodies (the dashboard's body handling is its own)", async () => {
    const bad = await request("POST", `${service.url}/sessions`, { repository: { owner: "octo" } });
    expect(bad.status).toBe(400);
  });
});

describe("behind the service's checks", () => {
  test("with API tokens, the dashboard needs one too; a write from another site is refused", async () => {
    const token = "dashboard-test-token-0123456789";
    const guarded = await startService({ port: 0, store: createInMemoryStore(), tokens: [token], engine: { runtimeUrl: sim.url, heartbeatMs: 0 } });
    try {
      expect((await fetch(`${guarded.url}/dashboard/api/sessions`)).status).toBe(401);
      const authorized = await fetch(`${guarded.url}/dashboard/api/sessions`, { headers: { authorization: `Bearer ${token}` } });
      expect(authorized.status).toBe(200);
      const crossSite = await fetch(`${guarded.url}/dashboard/api/sessions/any/close`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, origin: "https://elsewhere.example", "content-type": "application/json" },
        body: "{}",
      });
      expect(crossSite.status).toBe(403);
    } finally {
      await guarded.close();
    }
  });
});

describe("shutdown with a dashboard feed open", () => {
  test("ends the feed and completes", async () => {
    const local = await startService({ port: 0, store: createInMemoryStore(), engine: { runtimeUrl: sim.url, heartbeatMs: 0 } });
    const feed = await fetch(`${local.url}/dashboard/api/feed`);
    const reader = feed.body!.getReader();
    await reader.read();
    await local.close();
    let ended = false;
    while (!ended) ended = (await reader.read()).done;
    expect(ended).toBe(true);
  });
});
