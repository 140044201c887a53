import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SessionDetail } from "../src/index.js";
import { call, postJson } from "./support/http.js";
import { allCompleted, startScene, until, type Scene } from "./support/scene.js";

let scene: Scene;

beforeAll(async () => {
  scene = await startScene();
});

afterAll(async () => {
  await scene.close();
});

const api = (path: string) => `${scene.served.url}api/${path}`;
const detail = async (id: string) => (await call(api(`sessions/${id}`))).body as SessionDetail;

describe("actions through the engine, over the dashboard's API (real SDK client, simulator)", () => {
  test("a prompt sent through the API reaches the worker once, and its answer shows", async () => {
    const session = await scene.engine.start({ repository: { owner: "octo", name: "demo" } });
    await until(session, (handle) => handle.state === "ready", "ready");
    expect((await detail(session.id)).summary.running).toBe(true);
    // The page sends an id with each prompt: a retried request (same id) records the prompt once.
    const sent = await postJson(api(`sessions/${session.id}/prompts`), { text: "Count the TODOs", promptId: "page-1" });
    expect(sent).toMatchObject({ status: 202, body: { promptId: "page-1" } });
    expect(await postJson(api(`sessions/${session.id}/prompts`), { text: "Count the TODOs", promptId: "page-1" })).toMatchObject({ status: 202, body: { promptId: "page-1" } });
    expect(await postJson(api(`sessions/${session.id}/prompts`), { text: "x", promptId: "bad id!" })).toMatchObject({ status: 400, body: { code: "INVALID_REQUEST" } });
    await until(session, allCompleted(1), "the answer");
    expect(scene.sim.stats.timesReceived("Count the TODOs", session.sessionId ?? "")).toBe(1);
    await scene.engine.settled();
    const shown = await detail(session.id);
    expect(shown.prompts).toEqual([expect.objectContaining({ text: "Count the TODOs", status: "completed", reply: "Simulated reply to: Count the TODOs" })]);
    expect(shown.summary.prompts).toEqual({ delivered: 1, queued: 0, undelivered: 0 });
  });

  test("abort ends the running turn; the prompt is interrupted and the session ready again", async () => {
    const session = await scene.engine.start({ repository: { owner: "octo", name: "thinker" }, prompts: ["Think for a long time"] });
    await until(session, (handle) => handle.state === "streaming", "the turn to run");
    expect(await postJson(api(`sessions/${session.id}/abort`), {})).toMatchObject({ status: 202 });
    await until(session, (handle) => handle.state === "ready" && handle.snapshot().context.prompts.at(0)?.status === "interrupted", "the abort");
    await scene.engine.settled();
    expect((await detail(session.id)).replay.map((step) => step.edge).filter((edge) => edge !== null)).toContain("streaming.active->streaming.aborting");
  });

  test("close ends the session; afterwards no action is offered or taken", async () => {
    const session = await scene.engine.start({ repository: { owner: "octo", name: "held" }, prompts: ["Review the migration"] });
    await until(session, (handle) => handle.state === "awaiting-agent", "awaiting the agent");
    expect(await postJson(api(`sessions/${session.id}/close`), {})).toMatchObject({ status: 200, body: { state: "closed" } });
    await scene.engine.settled();
    const shown = await detail(session.id);
    expect(shown.summary).toMatchObject({ state: "closed", running: false, closeReason: "closed from the dashboard", prompts: { undelivered: 1 } });
    expect(await postJson(api(`sessions/${session.id}/prompts`), { text: "too late" })).toMatchObject({ status: 409, body: { code: "SESSION_NOT_RUNNING" } });
    expect(await postJson(api(`sessions/${session.id}/prompts`), { text: "  " })).toMatchObject({ status: 400, body: { code: "INVALID_REQUEST" } });
  });
});
